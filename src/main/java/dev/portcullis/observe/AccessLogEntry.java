package dev.portcullis.observe;

import dev.portcullis.template.Placeholder;
import dev.portcullis.template.PlaceholderSource;
import dev.portcullis.tls.TlsInfo;

/**
 * Everything the access log writes about one finished exchange. Strings are null where absent (no route matched,
 * no upstream, no User-Agent ...); numbers are 0 where absent.
 *
 * @param startEpochMillis when the first byte of the request arrived
 * @param protocol         such as "HTTP/1.1"
 * @param scheme           "http" or "https"
 * @param upstream         the upstream's name, or null when the route answered locally
 * @param upstreamAddress  the endpoint that served the request, such as "10.0.0.5:8080"
 * @param bytesSent        body bytes sent to the client (for a WebSocket: bytes relayed to it after the 101)
 * @param bytesReceived    request body bytes from the client (for a WebSocket: bytes relayed from it after the 101)
 * @param durationMicros   from the first byte of the request to the last byte of the response
 * @param tls              the client connection's TLS session facts, or null on a plain connection
 */
public record AccessLogEntry(
        long startEpochMillis,
        String listener,
        String clientIp,
        int clientPort,
        String method,
        String uri,
        String path,
        String protocol,
        String scheme,
        String host,
        String requestId,
        String route,
        String upstream,
        String upstreamAddress,
        int status,
        long bytesSent,
        long bytesReceived,
        long durationMicros,
        String userAgent,
        String referer,
        TlsInfo tls,
        String consumer) implements PlaceholderSource {

    /** An entry without a consumer (no route auth). */
    public AccessLogEntry(long startEpochMillis, String listener, String clientIp, int clientPort, String method,
                          String uri, String path, String protocol, String scheme, String host, String requestId,
                          String route, String upstream, String upstreamAddress, int status, long bytesSent,
                          long bytesReceived, long durationMicros, String userAgent, String referer, TlsInfo tls) {
        this(startEpochMillis, listener, clientIp, clientPort, method, uri, path, protocol, scheme, host, requestId,
                route, upstream, upstreamAddress, status, bytesSent, bytesReceived, durationMicros, userAgent, referer,
                tls, null);
    }

    /** An entry of a plain (not TLS) connection. */
    public AccessLogEntry(long startEpochMillis, String listener, String clientIp, int clientPort, String method,
                          String uri, String path, String protocol, String scheme, String host, String requestId,
                          String route, String upstream, String upstreamAddress, int status, long bytesSent,
                          long bytesReceived, long durationMicros, String userAgent, String referer) {
        this(startEpochMillis, listener, clientIp, clientPort, method, uri, path, protocol, scheme, host, requestId,
                route, upstream, upstreamAddress, status, bytesSent, bytesReceived, durationMicros, userAgent, referer,
                null, null);
    }

    @Override
    public void append(Placeholder placeholder, StringBuilder out) {
        switch (placeholder) {
            case CLIENT_IP -> str(clientIp, out);
            case CLIENT_PORT -> num(clientPort, out);
            case REQUEST_HOST -> str(host, out);
            case REQUEST_HOSTNAME -> str(host == null ? null : dev.portcullis.http.router.RouteTable.normalizeHost(host), out);
            case REQUEST_METHOD -> str(method, out);
            case REQUEST_URI -> str(uri, out);
            case REQUEST_PATH -> str(path, out);
            case REQUEST_SCHEME -> str(scheme, out);
            case REQUEST_ID -> str(requestId, out);
            case REQUEST_LINE -> {
                str(method, out);
                out.append(' ');
                str(uri, out);
                out.append(' ');
                str(protocol, out);
            }
            case ROUTE_NAME -> str(route, out);
            case UPSTREAM_NAME -> str(upstream, out);
            case UPSTREAM_ADDRESS -> str(upstreamAddress, out);
            case RESPONSE_STATUS -> num(status, out);
            case DURATION_MS -> appendMillis(durationMicros, out);
            case CONSUMER_NAME -> str(consumer, out);
            case TLS_SNI -> str(tls == null ? null : tls.sni(), out);
            case TLS_CLIENT_SUBJECT -> str(tls == null ? null : tls.clientSubject(), out);
            case TLS_CLIENT_FINGERPRINT -> str(tls == null ? null : tls.clientFingerprint(), out);
            case TLS_VERSION -> str(tls == null ? null : tls.version(), out);
            case TLS_CIPHER -> str(tls == null ? null : tls.cipher(), out);
        }
    }

    /** Appends microseconds as milliseconds with three decimals: 12345 → "12.345". */
    static void appendMillis(long micros, StringBuilder out) {
        if (micros < 0) {
            out.append('-');
            return;
        }
        long frac = micros % 1000;
        out.append(micros / 1000).append('.');
        if (frac < 100) {
            out.append(frac < 10 ? "00" : "0");
        }
        out.append(frac);
    }

    private static void str(String value, StringBuilder out) {
        out.append(value == null || value.isEmpty() ? "-" : value);
    }

    private static void num(long value, StringBuilder out) {
        if (value <= 0) {
            out.append('-');
        } else {
            out.append(value);
        }
    }
}
