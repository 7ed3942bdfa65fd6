package dev.portcullis.http.filters.compression;

import dev.portcullis.config.CompressConfig.Algorithm;
import java.util.Iterator;

/**
 * Picks the content coding for a response from the request's {@code Accept-Encoding} (RFC 9110 §12.5.3).
 * <ul>
 *   <li>Codings and parameter names are case-insensitive; whitespace around elements, {@code ;} and {@code =} is
 *   allowed; elements that cannot be read (a bad qvalue, stray characters) are skipped, the rest still counts.</li>
 *   <li>A coding is acceptable when listed with q &gt; 0, or not listed while {@code *} is, with q &gt; 0;
 *   {@code x-gzip} is {@code gzip} (RFC 9110 §8.4.1.3). When a coding is listed twice, the first one counts.</li>
 *   <li>Among acceptable ones the highest q wins; ties go to the route's order.</li>
 *   <li>{@code identity} competes only when the client ranks it (listed, or through {@code *}): if its q is
 *   strictly higher than the best coding's, the response is sent as is. {@code identity;q=0} never makes the proxy
 *   refuse (406): with nothing acceptable the response goes as is, as nginx and Apache do.</li>
 *   <li>No {@code Accept-Encoding} at all: sent as is. The RFC allows any coding then, but clients that send no
 *   header (scripts, curl without --compressed, health checks) mostly cannot decode one.</li>
 * </ul>
 * Allocates one small array per request, nothing per element.
 */
final class AcceptEncoding {
    /** q per coding, in thousandths; UNSET when the request does not rank it. */
    static final int UNSET = -1;
    private static final int BR = 0;
    private static final int ZSTD = 1;
    private static final int GZIP = 2;
    private static final int X_GZIP = 3;
    private static final int STAR = 4;
    private static final int IDENTITY = 5;
    private static final int UNKNOWN = 6;

    private AcceptEncoding() {
    }

    /**
     * @param values the request's Accept-Encoding values (several header lines count as one list); null: absent
     * @param order  the route's algorithms in its order of preference
     * @return the coding to use, or null to send the response as it is
     */
    static Algorithm choose(Iterator<String> values, Algorithm[] order) {
        if (values == null || !values.hasNext()) {
            return null;
        }
        int[] q = {UNSET, UNSET, UNSET, UNSET, UNSET, UNSET, UNSET};
        while (values.hasNext()) {
            parse(values.next(), q);
        }
        Algorithm best = null;
        int bestQ = 0;
        for (Algorithm a : order) {
            int aq = qOf(a, q);
            if (aq > bestQ) {
                best = a;
                bestQ = aq;
            }
        }
        int identity = q[IDENTITY] != UNSET ? q[IDENTITY] : q[STAR];
        return best != null && identity <= bestQ ? best : null;
    }

    private static int qOf(Algorithm a, int[] q) {
        int v = switch (a) {
            case BR -> q[BR];
            case ZSTD -> q[ZSTD];
            case GZIP -> q[GZIP] != UNSET ? q[GZIP] : q[X_GZIP];
        };
        return v != UNSET ? v : Math.max(q[STAR], 0);
    }

    /** Reads one header value's elements into {@code q}. */
    static void parse(String v, int[] q) {
        int i = 0;
        int n = v.length();
        while (i < n) {
            int end = v.indexOf(',', i);
            if (end < 0) {
                end = n;
            }
            element(v, i, end, q);
            i = end + 1;
        }
    }

    /** One element: {@code coding *( OWS ";" OWS param )}; a qvalue that cannot be read skips the element. */
    private static void element(String v, int from, int to, int[] q) {
        int semi = v.indexOf(';', from);
        if (semi < 0 || semi > to) {
            semi = to;
        }
        int s = skipOws(v, from, semi);
        int e = trimOws(v, s, semi);
        if (s == e) {
            return; // an empty element, as in "gzip,,br": allowed by the list syntax
        }
        int coding = coding(v, s, e);
        int weight = 1000;
        int p = semi;
        while (p < to) {
            int next = v.indexOf(';', p + 1);
            if (next < 0 || next > to) {
                next = to;
            }
            int ps = skipOws(v, p + 1, next);
            int pe = trimOws(v, ps, next);
            int eq = v.indexOf('=', ps);
            if (eq >= 0 && eq < pe) {
                int ne = trimOws(v, ps, eq);
                if (ne - ps == 1 && (v.charAt(ps) == 'q' || v.charAt(ps) == 'Q')) {
                    weight = qvalue(v, skipOws(v, eq + 1, pe), pe);
                    if (weight < 0) {
                        return;
                    }
                }
            }
            p = next;
        }
        if (coding != UNKNOWN && q[coding] == UNSET) {
            q[coding] = weight;
        }
    }

    /** {@code 0[.ddd]} or {@code 1[.000]} in thousandths; -1 when it is neither. */
    static int qvalue(String v, int s, int e) {
        if (s >= e) {
            return -1;
        }
        char first = v.charAt(s);
        if (first != '0' && first != '1') {
            return -1;
        }
        int value = (first - '0') * 1000;
        if (s + 1 == e) {
            return value;
        }
        if (v.charAt(s + 1) != '.' || e - (s + 2) > 3) {
            return -1;
        }
        int scale = 100;
        for (int i = s + 2; i < e; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value += (c - '0') * scale;
            scale /= 10;
        }
        return value > 1000 ? -1 : value;
    }

    private static int coding(String v, int s, int e) {
        int len = e - s;
        if (len == 1 && v.charAt(s) == '*') {
            return STAR;
        } else if (len == 2 && v.regionMatches(true, s, "br", 0, 2)) {
            return BR;
        } else if (len == 4 && v.regionMatches(true, s, "zstd", 0, 4)) {
            return ZSTD;
        } else if (len == 4 && v.regionMatches(true, s, "gzip", 0, 4)) {
            return GZIP;
        } else if (len == 6 && v.regionMatches(true, s, "x-gzip", 0, 6)) {
            return X_GZIP;
        } else if (len == 8 && v.regionMatches(true, s, "identity", 0, 8)) {
            return IDENTITY;
        }
        return UNKNOWN;
    }

    private static int skipOws(String v, int i, int end) {
        while (i < end && (v.charAt(i) == ' ' || v.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private static int trimOws(String v, int start, int end) {
        while (end > start && (v.charAt(end - 1) == ' ' || v.charAt(end - 1) == '\t')) {
            end--;
        }
        return end;
    }
}
