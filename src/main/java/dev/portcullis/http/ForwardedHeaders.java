package dev.portcullis.http;

import dev.portcullis.config.Values;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * The headers a backend sees about the client and the proxy (CONTRACT.md): X-Forwarded-For is appended to
 * (as nginx's $proxy_add_x_forwarded_for), X-Forwarded-Proto and -Host are set, Forwarded (RFC 7239) gets one
 * element appended, Via names us, X-Request-Id is the exchange's id.
 */
final class ForwardedHeaders {
    private static final AsciiString VIA_VALUE = AsciiString.cached("1.1 portcullis");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private ForwardedHeaders() {
    }

    static void apply(Exchange ex, HttpHeaders h) {
        HttpProxyHandler c = ex.client;
        String xff = h.get(Headers.X_FORWARDED_FOR);
        h.set(Headers.X_FORWARDED_FOR, xff == null || xff.isEmpty() ? c.address.ip() : xff + ", " + c.address.ip());
        // From the connection (TLS or not), never from what the client sent.
        boolean secure = ex.tls().secure();
        h.set(Headers.X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        String host = h.get(HttpHeaderNames.HOST);
        if (host != null) {
            h.set(Headers.X_FORWARDED_HOST, host);
        }
        StringBuilder fwd = new StringBuilder(64);
        String existing = h.get(Headers.FORWARDED);
        if (existing != null && !existing.isEmpty()) {
            fwd.append(existing).append(", ");
        }
        fwd.append("for=").append(c.address.forwardedFor());
        if (host != null && Values.isToken(host)) {
            fwd.append(";host=").append(host);
        } else if (host != null) {
            fwd.append(";host=\"").append(host.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        fwd.append(secure ? ";proto=https" : ";proto=http");
        h.set(Headers.FORWARDED, fwd.toString());
        String via = h.get(HttpHeaderNames.VIA);
        if (via == null || via.isEmpty()) {
            h.set(HttpHeaderNames.VIA, VIA_VALUE);
        } else {
            h.set(HttpHeaderNames.VIA, via + ", " + VIA_VALUE);
        }
        h.set(Headers.X_REQUEST_ID, ex.requestId);
    }
}
