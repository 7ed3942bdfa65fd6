package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;

/** Test helpers: headers from name/value pairs and a fixed clock. */
final class H {
    /** Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example date). */
    static final long T0 = HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT");

    private H() {
    }

    static HttpHeaders of(String... pairs) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < pairs.length; i += 2) {
            h.add(pairs[i], pairs[i + 1]);
        }
        return h;
    }

    static String date(long millis) {
        return HttpDates.format(millis);
    }

    static long s(long seconds) {
        return seconds * 1000;
    }

    /** A stored response received at T0 (request sent at T0) with the given headers. */
    static StoredMeta meta(int status, String... pairs) {
        return StoredMeta.of(status, of(pairs), T0, T0);
    }
}
