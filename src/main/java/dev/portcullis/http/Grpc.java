package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * What the proxy does differently for gRPC calls (a request whose content type is {@code application/grpc...}):
 * its own errors become gRPC statuses (a trailers-only response, HTTP 200 with {@code grpc-status} and
 * {@code grpc-message}), as a gRPC client cannot read an HTTP error page; and the call's {@code grpc-timeout}
 * bounds the exchange like a route {@code timeout} (the shorter of the two wins), as Envoy does.
 */
final class Grpc {
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    static final AsciiString CONTENT_TYPE = AsciiString.cached("application/grpc");

    /** gRPC status codes used for proxy-made errors. */
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;
    static final int DEADLINE_EXCEEDED = 4;
    static final int UNIMPLEMENTED = 12;
    static final int UNAUTHENTICATED = 16;
    static final int PERMISSION_DENIED = 7;
    static final int RESOURCE_EXHAUSTED = 8;

    private Grpc() {
    }

    static boolean isGrpc(HttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /**
     * The gRPC code for an HTTP status the proxy answers with: gRPC's "HTTP to gRPC status code mapping", except
     * that the proxy's own timeouts (504, 408) say DEADLINE_EXCEEDED, as Envoy's do.
     */
    static int codeFor(int httpStatus) {
        return switch (httpStatus) {
            case 400, 431 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 408, 504 -> DEADLINE_EXCEEDED;
            case 413, 429 -> RESOURCE_EXHAUSTED;
            case 502, 503 -> UNAVAILABLE;
            default -> httpStatus >= 500 ? UNAVAILABLE : INTERNAL;
        };
    }

    /**
     * The call's {@code grpc-timeout} (digits, then H, M, S, m, u or n), in nanoseconds; 0 when absent or
     * malformed (a malformed one is the server's to refuse, not ours).
     */
    static long timeoutNanos(HttpRequest req) {
        String v = req.headers().get(GRPC_TIMEOUT);
        if (v == null || v.length() < 2 || v.length() > 9) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            n = n * 10 + (c - '0');
        }
        long unit = switch (v.charAt(v.length() - 1)) {
            case 'H' -> 3_600_000_000_000L;
            case 'M' -> 60_000_000_000L;
            case 'S' -> 1_000_000_000L;
            case 'm' -> 1_000_000L;
            case 'u' -> 1_000L;
            case 'n' -> 1L;
            default -> 0L;
        };
        if (unit == 0 || n > Long.MAX_VALUE / unit) {
            return 0;
        }
        return Math.max(1, n * unit);
    }

    /** The exchange's deadline: the route timeout, shortened by the call's own deadline. 0: none. */
    static long effectiveTimeoutNanos(long routeTimeoutNanos, HttpRequest req) {
        long call = timeoutNanos(req);
        if (call == 0) {
            return routeTimeoutNanos;
        }
        return routeTimeoutNanos == 0 ? call : Math.min(call, routeTimeoutNanos);
    }

    /** grpc-message is percent-encoded UTF-8 (the gRPC HTTP/2 protocol spec): printable ASCII but '%' as is. */
    static String percentEncode(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
