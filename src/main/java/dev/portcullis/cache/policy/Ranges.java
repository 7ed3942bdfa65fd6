package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * A {@code Range} request answered from a stored complete response (RFC 9110 section 14). One byte range gives a
 * 206 with {@code Content-Range}; a range that starts at or past the end gives 416 with {@code bytes *}{@code /len};
 * several ranges, another unit, bad syntax, a method other than GET, an unknown length, an empty representation,
 * or an {@code If-Range} that does not match give the whole 200 (a server may always ignore Range). Multipart
 * byteranges are never produced. Client preconditions ({@link Conditionals}) are evaluated first: a 304 beats a 206.
 */
public final class Ranges {
    private Ranges() {
    }

    /** What to send. */
    public sealed interface Decision {
    }

    /** The whole stored response, 200 (with {@code Accept-Ranges: bytes} if the caller advertises it). */
    public record Full(String reason) implements Decision {
    }

    /**
     * 206: bytes {@code first..last} (inclusive) of {@code length}.
     */
    public record Partial(long first, long last, long length) implements Decision {
        /** {@code Content-Range} value. */
        public String contentRange() {
            return "bytes " + first + "-" + last + "/" + length;
        }

        /** {@code Content-Length} of the 206. */
        public long size() {
            return last - first + 1;
        }
    }

    /** 416 with {@code Content-Range: bytes *}{@code /length}. */
    public record Unsatisfiable(long length) implements Decision {
        public String contentRange() {
            return "bytes */" + length;
        }
    }

    /**
     * @param method  the client's method (only GET has range semantics)
     * @param request the client's headers (Range, If-Range)
     * @param stored  the stored response (validators for If-Range)
     * @param length  the stored body's length in bytes, or -1 while unknown (a fill in progress)
     */
    public static Decision decide(String method, HttpHeaders request, StoredMeta stored, long length) {
        List<String> ranges = request.getAll(HttpHeaderNames.RANGE);
        if (ranges.isEmpty()) {
            return new Full("no-range");
        }
        if (!"GET".equals(method) || stored.status() != 200) {
            return new Full("not-applicable");
        }
        if (ranges.size() != 1) {
            return new Full("invalid-range");
        }
        String ifRange = request.get(HttpHeaderNames.IF_RANGE);
        if (ifRange != null && !ifRangeMatches(ifRange, request, stored)) {
            return new Full("if-range");
        }
        if (length <= 0) {
            return new Full(length == 0 ? "empty" : "length-unknown");
        }
        return parse(ranges.get(0), length);
    }

    /**
     * RFC 9110 section 13.1.5: an entity-tag matches only by strong comparison with a strong stored ETag; a date
     * only when it equals the stored Last-Modified exactly and that is a strong validator (at least a second before
     * the response's Date, section 8.8.2.2).
     */
    static boolean ifRangeMatches(String ifRange, HttpHeaders request, StoredMeta stored) {
        if (request.getAll(HttpHeaderNames.IF_RANGE).size() != 1) {
            return false;
        }
        String v = ifRange.trim();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return EntityTags.strongEquals(v, stored.etag());
        }
        long date = HttpDates.parse(v);
        return date != HttpDates.NONE && date == stored.lastModified() && stored.date() - date >= 1000;
    }

    /** {@code bytes=first-last}, {@code bytes=first-}, {@code bytes=-suffix}; unit case-insensitive, OWS allowed. */
    static Decision parse(String value, long length) {
        int n = value.length();
        int i = Syntax.skipOws(value, 0, n);
        if (n - i < 6 || !Syntax.regionEquals(value, i, "bytes") || value.charAt(i + 5) != '=') {
            return new Full("invalid-range");
        }
        i += 6;
        int end = Syntax.trimOws(value, i, n);
        // Leading and trailing empty list members are allowed ("bytes=, 0-5 ,"); two real ranges mean multipart.
        int comma = value.indexOf(',', i);
        int from = i;
        int to = end;
        if (comma >= 0) {
            int members = 0;
            int p = i;
            while (p <= end) {
                int c = value.indexOf(',', p);
                int stop = c < 0 || c > end ? end : c;
                int s = Syntax.skipOws(value, p, stop);
                int e = Syntax.trimOws(value, s, stop);
                if (e > s) {
                    members++;
                    from = s;
                    to = e;
                }
                p = stop + 1;
            }
            if (members != 1) {
                return new Full(members == 0 ? "invalid-range" : "multiple-ranges");
            }
        }
        from = Syntax.skipOws(value, from, to);
        to = Syntax.trimOws(value, from, to);
        int dash = value.indexOf('-', from);
        if (dash < 0 || dash >= to) {
            return new Full("invalid-range");
        }
        long first = digits(value, from, dash);
        long last = digits(value, dash + 1, to);
        if (dash == from) { // suffix-range
            if (last == INVALID || last == 0) {
                return last == 0 ? new Unsatisfiable(length) : new Full("invalid-range");
            }
            long size = Math.min(last, length);
            return new Partial(length - size, length - 1, length);
        }
        if (first == INVALID || (last == INVALID && dash + 1 != to) || (last != INVALID && last < first)) {
            return new Full("invalid-range");
        }
        if (first >= length) {
            return new Unsatisfiable(length);
        }
        long clampedLast = last == INVALID ? length - 1 : Math.min(last, length - 1);
        return new Partial(first, clampedLast, length);
    }

    private static final long INVALID = -1;

    /** 1*DIGIT as a long, saturating at Long.MAX_VALUE; INVALID when empty or not digits. */
    private static long digits(String v, int from, int to) {
        return Syntax.digits(v, from, to, Long.MAX_VALUE);
    }
}
