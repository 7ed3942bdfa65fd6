package dev.portcullis.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;

/**
 * Writes responses to one client connection: framing and connection headers for the client's HTTP version,
 * HEAD handling in the encoder, one flush per read batch, and closing after the last byte when the
 * connection has to end.
 *
 * <p>On an HTTP/2 stream (one request per child channel) there are no connection headers and no re-framing
 * (DATA frames carry the body); "close after the response" means: once the response ended, a request still
 * being sent is cut with RST_STREAM(NO_ERROR) (RFC 9113 §8.1), and the connection itself goes on.
 */
final class ResponseWriter {
    /** How long a closing connection keeps reading (and dropping) what the client still sends. */
    static final long LINGER_MILLIS = 2000;

    private final ChannelHandlerContext ctx;
    private final ResponseFraming encoder;
    private final ListenerContext listener;
    private final boolean http2;
    /** True when the client has sent nothing beyond the current request (nothing queued or half decoded). */
    private final BooleanSupplier clientQuiet;
    private boolean unflushed;
    /** The connection ends once the response in progress is written. */
    private boolean closeAfterResponse;

    ResponseWriter(ChannelHandlerContext ctx, ResponseFraming encoder, ListenerContext listener, boolean http2,
                   BooleanSupplier clientQuiet) {
        this.ctx = ctx;
        this.encoder = encoder;
        this.listener = listener;
        this.http2 = http2;
        this.clientQuiet = clientQuiet;
    }

    boolean closeAfterResponse() {
        return closeAfterResponse;
    }

    void closeAfterResponse(boolean value) {
        closeAfterResponse = value;
    }

    /** A proxy-made response, written and flushed whole. */
    void local(Exchange ex, LocalReply reply) {
        ex.responseStarted = true;
        ex.status = reply.status();
        String accept = ex.request.headers().get(HttpHeaderNames.ACCEPT);
        boolean json = accept != null && accept.contains("json");
        FullHttpResponse res = Grpc.isGrpc(ex.request)
                ? reply.toGrpcResponse(ctx.alloc(), HttpVersion.HTTP_1_1, ex.requestId)
                : reply.toResponse(ctx.alloc(), HttpVersion.HTTP_1_1, ex.requestId, json);
        if (ex.route != null) {
            ex.route.filters().onResponse(ex, res);
        }
        ex.bytesSent = res.content().readableBytes();
        connectionHeaders(ex, res);
        encoder.headResponse(ex.head);
        ex.responseComplete = true;
        last(ex, res);
    }

    /** The upstream's response head, hop-by-hop headers already gone. */
    void head(Exchange ex, HttpResponse res, boolean lengthUnknown) {
        ex.responseStarted = true;
        ex.status = res.status().code();
        if (lengthUnknown && !http2) {
            if (ex.version == HttpVersion.HTTP_1_0) {
                closeAfterResponse = true;
            } else {
                res.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        if (!ex.requestComplete) {
            // The upstream answered before the whole request arrived; the rest of it cannot be trusted to
            // stop at a message boundary we would see, so this connection ends with the response.
            closeAfterResponse = true;
        }
        ex.route.filters().onResponse(ex, res);
        connectionHeaders(ex, res);
        res.setProtocolVersion(HttpVersion.HTTP_1_1);
        encoder.headResponse(ex.head);
        ctx.write(res, ctx.voidPromise());
        unflushed = true;
    }

    private void connectionHeaders(Exchange ex, HttpResponse res) {
        if (http2) {
            return; // connection-specific headers are not allowed in HTTP/2 (RFC 9113 §8.2.2); GOAWAY ends it
        }
        boolean keepAlive = ex.clientKeepAlive && !closeAfterResponse && !listener.draining();
        if (!keepAlive) {
            closeAfterResponse = true;
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (ex.version == HttpVersion.HTTP_1_0) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    /** 1xx other than 100 and 101 (e.g. 103 Early Hints): passed on to HTTP/1.1 and HTTP/2 clients only. */
    void informational(Exchange ex, HttpResponse res) {
        if (ex.version == HttpVersion.HTTP_1_1 || http2) {
            Headers.removeHopByHop(res.headers());
            encoder.headResponse(false);
            ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), ctx.alloc().buffer(0),
                    res.headers(), EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
            unflushed = true;
        }
    }

    /** @return false when the client cannot take more now */
    boolean content(HttpContent c) {
        ctx.write(c, ctx.voidPromise());
        unflushed = true;
        return ctx.channel().isWritable();
    }

    /**
     * The last part of a response: written, flushed, and the connection closed after it if it must end. A client
     * that asked for the close itself (HTTP/1.0, {@code Connection: close}), sent its whole request and nothing
     * after it is closed at once, as nginx's lingering_close heuristics do; any other gets the lingering close.
     */
    void last(Exchange ex, Object msg) {
        unflushed = false;
        if (closeAfterResponse) {
            boolean clientDone = !http2 && !ex.clientKeepAlive && ex.requestComplete && clientQuiet.getAsBoolean();
            ctx.writeAndFlush(msg).addListener(f -> {
                if (clientDone) {
                    ctx.close(); // a TLS connection sends its close_notify first (SslHandler)
                } else {
                    lingerThenClose();
                }
            });
        } else {
            ctx.writeAndFlush(msg, ctx.voidPromise());
        }
    }

    /**
     * Ends the connection the way nginx's lingering close does: stop sending (FIN), keep reading and dropping
     * what the client still sends for up to {@link #LINGER_MILLIS}, then close. Closing at once with unread
     * bytes in the receive buffer makes the kernel send a reset, and the client may lose the reply (a 413
     * to an upload) that was just sent.
     */
    private void lingerThenClose() {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (http2) {
            // The stream is still open: the client has not finished its request. Ask it to stop without error.
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (ctx.channel() instanceof DuplexChannel d && !d.isOutputShutdown()) {
            d.shutdownOutput();
            ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            ctx.close();
        }
    }

    void flushIfNeeded() {
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
    }

    /** No request head within header_read_timeout: 408 and close, as HAProxy does. */
    void requestTimeout() {
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_TIMEOUT, ctx.alloc().buffer(0));
        if (!http2) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        encoder.headResponse(false);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }
}
