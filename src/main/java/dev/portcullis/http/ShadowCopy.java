package dev.portcullis.http;

import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

/** The parts of a mirror's copy of a request: its own head, and duplicates of the body chunks. */
final class ShadowCopy {
    private ShadowCopy() {
    }

    /**
     * A copy of the upstream request head (the original goes to the real upstream and may change again there)
     * whose Host names the shadow: {@link #shadowHost}.
     *
     * @param fallbackHost used when the request has no Host (HTTP/1.0): the mirror endpoint's address
     */
    static HttpRequest head(HttpRequest src, String fallbackHost) {
        HttpHeaders h = src.headers().copy();
        String host = h.get(HttpHeaderNames.HOST);
        h.set(HttpHeaderNames.HOST, shadowHost(host == null ? fallbackHost : host));
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, src.method(), src.uri(), h);
    }

    /** As Envoy: "example.com:8080" becomes "example.com-shadow:8080", "example.com" becomes "example.com-shadow". */
    static String shadowHost(String host) {
        int colon = host.lastIndexOf(':');
        if (colon > 0 && colon > host.lastIndexOf(']')) {
            return host.substring(0, colon) + "-shadow" + host.substring(colon);
        }
        return host + "-shadow";
    }

    /**
     * A body chunk sharing the original's bytes (retained once more); a plain chunk even when the original is a
     * whole request, so the head is never written twice.
     */
    static HttpContent duplicate(HttpContent c) {
        if (c instanceof LastHttpContent last) {
            return !c.content().isReadable() && last.trailingHeaders().isEmpty() ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new DefaultLastHttpContent(c.content().retainedDuplicate(), last.trailingHeaders().copy());
        }
        return new DefaultHttpContent(c.content().retainedDuplicate());
    }
}
