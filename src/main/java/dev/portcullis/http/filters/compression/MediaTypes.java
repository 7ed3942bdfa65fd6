package dev.portcullis.http.filters.compression;

import java.util.List;

/**
 * The route's {@code types}, matched against a Content-Type without allocating: parameters ({@code ; charset=...})
 * and case are ignored, {@code text/*} matches any text type, {@code *}{@code /*} any type. gRPC bodies
 * ({@code application/grpc}, {@code application/grpc+proto}, {@code application/grpc-web}, ...) never match: gRPC
 * has its own per-message compression, and gRPC clients do not expect an HTTP content coding.
 */
final class MediaTypes {
    private static final String GRPC = "application/grpc";

    /** Exact types ("application/json") and, for wildcards, the prefix with its slash ("text/"). */
    private final String[] exact;
    private final String[] prefixes;
    private final boolean any;

    MediaTypes(List<String> types) {
        this.any = types.contains("*/*");
        this.exact = types.stream().filter(t -> !t.endsWith("/*")).toArray(String[]::new);
        this.prefixes = types.stream().filter(t -> t.endsWith("/*") && !t.equals("*/*"))
                .map(t -> t.substring(0, t.length() - 1)).toArray(String[]::new);
    }

    /** @param contentType the response's Content-Type; null never matches */
    boolean matches(String contentType) {
        if (contentType == null) {
            return false;
        }
        int s = 0;
        int e = contentType.indexOf(';');
        if (e < 0) {
            e = contentType.length();
        }
        while (s < e && (contentType.charAt(s) == ' ' || contentType.charAt(s) == '\t')) {
            s++;
        }
        while (e > s && (contentType.charAt(e - 1) == ' ' || contentType.charAt(e - 1) == '\t')) {
            e--;
        }
        int len = e - s;
        if (len == 0 || isGrpc(contentType, s, e)) {
            return false;
        }
        int slash = contentType.indexOf('/', s);
        if (slash <= s || slash >= e - 1) {
            return false; // not type/subtype
        }
        if (any) {
            return true;
        }
        for (String t : exact) {
            if (t.length() == len && contentType.regionMatches(true, s, t, 0, len)) {
                return true;
            }
        }
        for (String p : prefixes) {
            if (p.length() == slash - s + 1 && contentType.regionMatches(true, s, p, 0, p.length())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isGrpc(String v, int s, int e) {
        int n = GRPC.length();
        return e - s >= n && v.regionMatches(true, s, GRPC, 0, n);
    }
}
