package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.StickySessions;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;

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
        String value = Cookies.value(ex.request.headers(), s.cookieName());
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
            String cookie = s.setCookie(e);
            // Over TLS the pin must not leak on a later plain-http request to the same host.
            res.headers().add(HttpHeaderNames.SET_COOKIE, ex.tls().secure() ? cookie + "; Secure" : cookie);
        }
    }
}
