package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * A response the proxy makes itself: an error (short body naming what happened and the request id, JSON when
 * the client accepts JSON), a redirect, or a route's {@code respond}.
 */
public final class LocalReply {
    private final HttpResponseStatus status;
    private final String message;
    private final byte[] body;
    private final CharSequence contentType;
    private final boolean closeConnection;
    private HttpHeaders extraHeaders;
    /** The body is JSON whatever the client accepts (API gateway refusals: their clients are programs). */
    private boolean alwaysJson;

    private LocalReply(HttpResponseStatus status, String message, byte[] body, CharSequence contentType,
                       boolean closeConnection) {
        this.status = status;
        this.message = message;
        this.body = body;
        this.contentType = contentType;
        this.closeConnection = closeConnection;
    }

    /** An error whose body is rendered per request (text or JSON, with the request id). */
    public static LocalReply error(int status, String message) {
        return new LocalReply(HttpResponseStatus.valueOf(status), message, null, null, false);
    }

    /** An error whose body is JSON for every client (the API gateway's 401, 403 and 429). */
    public static LocalReply jsonError(int status, String message) {
        LocalReply r = error(status, message);
        r.alwaysJson = true;
        return r;
    }

    boolean alwaysJson() {
        return alwaysJson;
    }

    /** An error after which the connection is closed: the stream can no longer be trusted. */
    public static LocalReply fatal(int status, String message) {
        return new LocalReply(HttpResponseStatus.valueOf(status), message, null, null, true);
    }

    public static LocalReply of(int status, byte[] body, HttpHeaders headers) {
        LocalReply r = new LocalReply(HttpResponseStatus.valueOf(status), null, body, null, false);
        r.extraHeaders = headers;
        return r;
    }

    /** Adds a header to this reply (e.g. a hint for the client about why it was refused). */
    public LocalReply header(CharSequence name, String value) {
        if (extraHeaders == null) {
            extraHeaders = new DefaultHttpHeaders();
        }
        extraHeaders.add(name, value);
        return this;
    }

    /** A route's {@code redirect}: Location rendered from its template, no body. */
    static LocalReply redirect(RouteTarget.Redirect r, Exchange ex) {
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.LOCATION, r.to().render(ex));
        return of(r.status(), new byte[0], h);
    }

    /** A route's {@code respond}: its status, body and rendered headers. */
    static LocalReply respond(RouteTarget.Respond r, Exchange ex) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < r.headerNames().length; i++) {
            h.add(r.headerNames()[i], r.headerValues()[i].render(ex));
        }
        return of(r.status(), r.body(), h);
    }

    public int status() {
        return status.code();
    }

    public String message() {
        return message;
    }

    public boolean closeConnection() {
        return closeConnection;
    }

    FullHttpResponse toResponse(ByteBufAllocator alloc, HttpVersion version, String requestId, boolean json) {
        ByteBuf content;
        CharSequence type = contentType;
        if (body != null) {
            content = alloc.buffer(body.length).writeBytes(body);
        } else if (json) {
            content = alloc.buffer(128);
            content.writeCharSequence("{\"status\":" + status.code() + ",\"error\":\"" + jsonEscape(status.reasonPhrase())
                    + "\",\"message\":\"" + jsonEscape(message) + "\",\"request_id\":\"" + jsonEscape(requestId)
                    + "\"}\n", StandardCharsets.UTF_8);
            type = HttpHeaderValues.APPLICATION_JSON;
        } else {
            content = alloc.buffer(128);
            content.writeCharSequence(status.code() + " " + status.reasonPhrase() + ": " + message
                    + " (request id " + requestId + ")\n", StandardCharsets.UTF_8);
            type = "text/plain; charset=utf-8";
        }
        FullHttpResponse res = new DefaultFullHttpResponse(version, status, content);
        HttpHeaders h = res.headers();
        if (type != null) {
            h.set(HttpHeaderNames.CONTENT_TYPE, type);
        }
        if (extraHeaders != null) {
            h.add(extraHeaders);
        }
        if (message != null) {
            h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
            h.set(Headers.X_REQUEST_ID, requestId);
        }
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return res;
    }

    /**
     * The reply as a gRPC client must get it: a trailers-only response (HTTP 200, no body) whose grpc-status and
     * grpc-message say what happened; a route's {@code respond} or a redirect is not an error and is sent as is.
     */
    FullHttpResponse toGrpcResponse(ByteBufAllocator alloc, HttpVersion version, String requestId) {
        if (message == null) {
            return toResponse(alloc, version, requestId, false);
        }
        FullHttpResponse res = new DefaultFullHttpResponse(version, HttpResponseStatus.OK, alloc.buffer(0));
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, Grpc.CONTENT_TYPE);
        h.setInt(Grpc.GRPC_STATUS, Grpc.codeFor(status.code()));
        h.set(Grpc.GRPC_MESSAGE, Grpc.percentEncode(status.code() + " " + status.reasonPhrase() + ": " + message
                + " (request id " + requestId + ")"));
        if (extraHeaders != null) {
            h.add(extraHeaders);
        }
        h.set(Headers.X_REQUEST_ID, requestId);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return res;
    }

    private static String jsonEscape(String s) {
        return s == null ? "" : new String(JsonStringEncoder.getInstance().quoteAsString(s));
    }
}
