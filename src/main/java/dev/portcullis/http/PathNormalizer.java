package dev.portcullis.http;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Resolves "." and ".." segments (RFC 3986 §5.2.4) before routing, so {@code /public/../admin} is routed and
 * forwarded as {@code /admin}, never matched against {@code /public/}. Percent-encoded characters are left
 * alone (an encoded slash is not a separator), except {@code %2e}: it is an unreserved character, so
 * RFC 3986 §6.2.2.2 makes it equal to "." and {@code /public/%2e%2e/admin} must not pass as a {@code /public/}
 * path to a backend that decodes it. Paths without dot segments are returned as they are, with no
 * allocation.
 */
public final class PathNormalizer {
    private PathNormalizer() {
    }

    public static String removeDotSegments(String path) {
        if (path.indexOf('%') >= 0) {
            path = decodeDots(path);
        }
        if (!hasDotSegment(path)) {
            return path;
        }
        Deque<String> out = new ArrayDeque<>();
        String[] segments = path.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (".".equals(s)) {
                if (last) {
                    out.addLast("");
                }
            } else if ("..".equals(s)) {
                out.pollLast();
                if (last) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        StringBuilder sb = new StringBuilder(path.length());
        for (String s : out) {
            sb.append('/').append(s);
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }

    /** Replaces %2e / %2E with "." (only that: other escapes keep their meaning). */
    static String decodeDots(String path) {
        StringBuilder sb = null;
        int n = path.length();
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < n && path.charAt(i + 1) == '2' && (path.charAt(i + 2) | 0x20) == 'e') {
                if (sb == null) {
                    sb = new StringBuilder(n).append(path, 0, i);
                }
                sb.append('.');
                i += 2;
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? path : sb.toString();
    }

    private static boolean hasDotSegment(String path) {
        int n = path.length();
        for (int i = 0; i < n; i++) {
            if (path.charAt(i) == '.' && i > 0 && path.charAt(i - 1) == '/') {
                int end = i + 1;
                if (end < n && path.charAt(end) == '.') {
                    end++;
                }
                if (end == n || path.charAt(end) == '/') {
                    return true;
                }
            }
        }
        return false;
    }
}
