package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.StickySessions;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Iterator;

/**
 * The HTTP side of {@code sticky}: reads the pin from the request's Cookie header before the first try, and sets
 * (or moves) it on the response when the client does not hold the id of the endpoint that answered. The cookie is
 * passed on to the upstream unchanged, as other cookies are.
 */
final class StickyCookie {
    private StickyCookie() {
    }

    /** The endpoint the request's cookie pins it to and that may take it now; else null (balance as usual). */
    static Endpoint pinned(Exchange ex, Upstream upstream, PickContext ctx) {
        StickySessions s = upstream.sticky();
        if (s == null) {
            return null;
        }
        String value = value(ex.request.headers(), s.cookieName());
        ex.stickyCookie = value;
        return s.pinned(value, ctx);
    }

    /** Adds the Set-Cookie that pins the client to the endpoint that answered, unless it holds that pin already. */
    static void onResponse(Exchange ex, Upstream upstream, HttpResponse res) {
        StickySessions s = upstream.sticky();
        Endpoint e = ex.endpoint;
        if (s == null || e == null) {
            return;
        }
        String id = s.id(e);
        if (id != null && !id.equals(ex.stickyCookie)) {
            res.headers().add(HttpHeaderNames.SET_COOKIE, s.setCookie(e));
        }
    }

    /**
     * The value of the first cookie called {@code name} in the Cookie header(s), quotes removed; null when absent.
     * A plain scan (RFC 6265 section 5.4 pairs separated by ';'): no decoder objects per request.
     */
    static String value(HttpHeaders headers, String name) {
        Iterator<String> it = headers.valueStringIterator(HttpHeaderNames.COOKIE);
        while (it.hasNext()) {
            String v = find(it.next(), name);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static String find(String header, String name) {
        int n = header.length();
        int i = 0;
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == '\t')) {
                i++;
            }
            int end = header.indexOf(';', i);
            if (end < 0) {
                end = n;
            }
            if (header.startsWith(name, i) && i + name.length() < end && header.charAt(i + name.length()) == '=') {
                int from = i + name.length() + 1;
                int to = end;
                while (to > from && (header.charAt(to - 1) == ' ' || header.charAt(to - 1) == '\t')) {
                    to--;
                }
                if (to - from >= 2 && header.charAt(from) == '"' && header.charAt(to - 1) == '"') {
                    from++;
                    to--;
                }
                return header.substring(from, to);
            }
            i = end + 1;
        }
        return null;
    }
}
