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
 * proxy's forwarded headers added. Route filters run after
 * {@link #prepare} (so they can override any of it) and {@link #target} sets the rewritten target last.
 */
final class UpstreamRequest {
    private UpstreamRequest() {
    }

    static void prepare(Exchange ex) {
        HttpRequest req = ex.request;
        HttpHeaders h = req.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        Headers.removeHopByHop(h);
        if (ex.upgrade) {
            // The one hop-by-hop exchange that is passed on, as nginx's proxy_set_header Upgrade/Connection.
            WebSocketUpgrade.setRequestHeaders(h);
        }
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        ForwardedHeaders.apply(ex, h);
    }

    static void target(Exchange ex) {
        ex.request.setUri(ex.query == null ? ex.upstreamPath : ex.upstreamPath + '?' + ex.query);
    }
}
