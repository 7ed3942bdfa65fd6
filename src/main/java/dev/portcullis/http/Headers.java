package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.function.Predicate;

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
        for (String value : headers.getAll(HttpHeaderNames.TE)) {
            if (anyToken(value, HttpHeaderValues.TRAILERS::contentEqualsIgnoreCase)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Removes the hop-by-hop headers and every header the {@code Connection} header names. Names of
     * end-to-end headers the proxy relies on for framing are never removed through {@code Connection}.
     */
    public static void removeHopByHop(HttpHeaders headers) {
        if (headers.contains(HttpHeaderNames.CONNECTION)) {
            for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
                anyToken(value, token -> {
                    if (!HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(token)
                            && !HttpHeaderNames.HOST.contentEqualsIgnoreCase(token)) {
                        headers.remove(token);
                    }
                    return false;
                });
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
    }

    /**
     * Offers each token of a comma-separated header value to {@code test} (trimmed, parameters after ';' cut off,
     * empty ones skipped) until it returns true.
     *
     * @return whether {@code test} returned true for a token
     */
    static boolean anyToken(String value, Predicate<String> test) {
        int start = 0;
        while (start < value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            int semi = value.indexOf(';', start);
            String token = value.substring(start, semi >= 0 && semi < end ? semi : end).trim();
            if (!token.isEmpty() && test.test(token)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }
}
