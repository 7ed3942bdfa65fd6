package dev.portcullis.cache.policy;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Date;
import java.util.List;

/**
 * HTTP-date fields (RFC 9110 section 5.6.7) as epoch milliseconds. Parsing is Netty's {@link DateFormatter}, which
 * accepts the three formats a recipient must accept (IMF-fixdate, RFC 850, asctime).
 */
public final class HttpDates {
    /** What {@link #parse} and {@link #single} return for an absent or invalid date. */
    public static final long NONE = Long.MIN_VALUE;

    private HttpDates() {
    }

    /** The date as epoch millis, or {@link #NONE} when null or not an HTTP-date (such as {@code Expires: 0}). */
    public static long parse(CharSequence value) {
        if (value == null || value.length() == 0) {
            return NONE;
        }
        Date d = DateFormatter.parseHttpDate(value);
        return d == null ? NONE : d.getTime();
    }

    /**
     * A singleton date field: {@link #NONE} when absent, invalid, or given several times with different values
     * (RFC 9111 section 4.2.1: with conflicting values a cache uses the first or treats the response as stale; we
     * treat it as invalid). {@code headers.contains(name)} tells an absent field from a bad one.
     */
    public static long single(HttpHeaders headers, CharSequence name) {
        String value = headers.get(name);
        if (value == null) {
            return NONE;
        }
        long first = parse(value);
        if (first != NONE) {
            List<String> all = headers.getAll(name);
            for (int i = 1; i < all.size(); i++) {
                if (parse(all.get(i)) != first) {
                    return NONE;
                }
            }
        }
        return first;
    }

    /** IMF-fixdate, as a sender must generate (whole seconds). */
    public static String format(long epochMillis) {
        return DateFormatter.format(new Date(epochMillis));
    }
}
