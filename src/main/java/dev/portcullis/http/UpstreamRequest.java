package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Turns the client's request head, in place, into the one the upstream receives: HTTP/1.1, hop-by-hop headers
 * gone (the body keeps its chunked framing) except {@code Upgrade: websocket} for a WebSocket opening handshake, the
 * proxy's forwarded headers added. For an HTTP/2 upstream ({@code http2}, {@code h2c}) {@code TE: trailers} is kept
 * (gRPC needs it; any other TE value is not); the rest of the mapping is the stream codec's (Host becomes
 * {@code :authority}, {@code :scheme} is https over TLS and http for h2c, connection-specific headers are left
 * out). Route filters run after
 * {@link #prepare} (so they can override any of it) and {@link #target} sets the rewritten target last: origin-form,
 * except for a forward proxy's request to its parent proxy, which keeps the absolute form.
 */
final class UpstreamRequest {
    private UpstreamRequest() {
    }

    static void prepare(Exchange ex) {
        HttpRequest req = ex.request;
        HttpHeaders h = req.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        boolean teTrailers = ex.upstream != null && ex.upstream.connection().multiplexed()
                && h.contains(HttpHeaderNames.TE) && Headers.acceptsTrailers(h);
        Headers.removeHopByHop(h);
        if (teTrailers) {
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (ex.upgrade && (ex.upstream == null || !ex.upstream.connection().multiplexed())) {
            // The one hop-by-hop exchange that is passed on, as nginx's proxy_set_header Upgrade/Connection. HTTP/2
            // has no Upgrade (and extended CONNECT is not done): to an h2/h2c upstream it goes as a plain GET.
            WebSocketUpgrade.setRequestHeaders(h);
        }
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        ForwardedHeaders.apply(ex, h);
    }

    /** Origin-form, or absolute-form for a forward proxy's request to its parent ({@link Exchange#absolutePrefix}). */
    static void target(Exchange ex) {
        String origin = ex.query == null ? ex.upstreamPath : ex.upstreamPath + '?' + ex.query;
        ex.request.setUri(ex.absolutePrefix == null ? origin : ex.absolutePrefix + origin);
    }
}
