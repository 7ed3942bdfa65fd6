package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Which requests are proxied as a WebSocket upgrade (RFC 6455 §4.1, RFC 9110 §7.8), and which 101 answers
 * complete one. Only {@code websocket} is passed on: any other {@code Upgrade} (h2c, TLS/1.0 ...) is removed as a
 * hop-by-hop header, as before. A request that asks for websocket but cannot be an opening handshake (not GET, not
 * HTTP/1.1, or with a body) is not an upgrade either: it goes on as a plain request without Upgrade.
 */
final class WebSocketUpgrade {
    private WebSocketUpgrade() {
    }

    /**
     * The same answer for the decoder (which holds the bytes that follow such a request) and the proxy handler
     * (which forwards the upgrade): decided on the request head as received, before anything changes it.
     */
    static boolean isRequest(HttpRequest req) {
        if (!req.decoderResult().isSuccess() || !HttpMethod.GET.equals(req.method())
                || req.protocolVersion() != HttpVersion.HTTP_1_1) {
            return false;
        }
        HttpHeaders h = req.headers();
        if (!h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                || !h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return false;
        }
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        return length == null || length.trim().equals("0");
    }

    /** The headers that ask the upstream to upgrade, set after the hop-by-hop ones were removed. */
    static void setRequestHeaders(HttpHeaders h) {
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }

    /** The 101 as the client gets it: the upstream's, hop-by-hop headers gone, these two set again. */
    static void setResponseHeaders(HttpHeaders h) {
        setRequestHeaders(h);
    }

    /** A 101 that switches to what was asked: websocket (a 101 naming another protocol is a broken reply). */
    static boolean isAccepted(HttpResponse res) {
        return res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
                && res.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }
}
