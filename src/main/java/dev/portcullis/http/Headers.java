package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/** Header names the proxy itself reads or writes, and the hop-by-hop rule of RFC 9110 §7.6.1. */
public final class Headers {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    public static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    public static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    /** Always hop-by-hop, besides whatever {@code Connection} names. Transfer-Encoding is re-framed by us. */
    private static final AsciiString[] HOP_BY_HOP = {
        HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.TE,
        HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_AUTHORIZATION,
        HttpHeaderNames.PROXY_AUTHENTICATE,
    };

    private Headers() {
    }

    /**
     * Whether the request's {@code TE} lists {@code trailers}: the one TE value HTTP/2 allows (RFC 9113 §8.2.2),
     * which gRPC servers require. Read before {@link #removeHopByHop} drops TE.
     */
    public static boolean acceptsTrailers(HttpHeaders headers) {
        List<String> te = headers.getAll(HttpHeaderNames.TE);
        for (int i = 0; i < te.size(); i++) {
            String value = te.get(i);
            int start = 0;
            while (start < value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                int semi = value.indexOf(';', start);
                String token = value.substring(start, semi >= 0 && semi < end ? semi : end).trim();
                if (HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(token)) {
                    return true;
                }
                start = end + 1;
            }
        }
        return false;
    }

    /**
     * Removes the hop-by-hop headers and every header the {@code Connection} header names. Names of
     * end-to-end headers the proxy relies on for framing are never removed through {@code Connection}.
     */
    public static void removeHopByHop(HttpHeaders headers) {
        List<String> connection = headers.contains(HttpHeaderNames.CONNECTION)
                ? headers.getAll(HttpHeaderNames.CONNECTION) : List.of();
        for (int i = 0; i < connection.size(); i++) {
            String value = connection.get(i);
            int start = 0;
            while (start < value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim();
                if (!token.isEmpty() && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(token)
                        && !HttpHeaderNames.HOST.contentEqualsIgnoreCase(token)) {
                    headers.remove(token);
                }
                start = end + 1;
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
    }
}
