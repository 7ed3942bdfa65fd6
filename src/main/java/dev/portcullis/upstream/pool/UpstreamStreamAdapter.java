package dev.portcullis.upstream.pool;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.AsciiString;
import java.io.IOException;

/**
 * Sits between Netty's HTTP/2-to-HTTP/1 stream codec and the {@link UpstreamConnection} of one upstream stream, so
 * that the proxy sees exactly what an HTTP/1.1 upstream connection would give it:
 * <ul>
 *   <li>a response that ends with its HEADERS frame (a {@link FullHttpResponse}) becomes a head and a last part,
 *       and so does every 1xx (HTTP/1 decoders give each message its own end);</li>
 *   <li>the {@code x-http2-*} headers Netty adds for its own bookkeeping never reach the client;</li>
 *   <li>a stream the upstream refused (RST_STREAM REFUSED_STREAM, or above the last stream id of its GOAWAY) is
 *       reported as an {@link UnprocessedRequestException}, which the proxy may retry whatever the method; another
 *       reset is reported as a failure naming its error code.</li>
 * </ul>
 */
final class UpstreamStreamAdapter extends ChannelInboundHandlerAdapter {
    private static final ExtensionHeaderNames[] EXTENSIONS = ExtensionHeaderNames.values();
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString[] GRPC_TRAILERS = {
        GRPC_STATUS, AsciiString.cached("grpc-message"), AsciiString.cached("grpc-status-details-bin"),
    };
    private final MultiplexedConnection connection;

    UpstreamStreamAdapter(MultiplexedConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse res) {
            strip(res.headers());
            boolean informational = res.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (msg instanceof FullHttpResponse full) {
                HttpResponse head = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
                LastHttpContent last = new DefaultLastHttpContent(full.content());
                last.trailingHeaders().set(full.trailingHeaders());
                if (!informational) {
                    moveGrpcStatusToTrailers(full.headers(), last.trailingHeaders());
                }
                ctx.fireChannelRead(head);
                ctx.fireChannelRead(last);
            } else if (informational) {
                res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING); // added by the codec: a 1xx has no body
                ctx.fireChannelRead(res);
                ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                ctx.fireChannelRead(res);
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** Resets and GOAWAYs reach a stream as user events (they are not flow-controlled reads). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame rst) {
            long code = rst.errorCode();
            ReferenceCountUtil.release(evt);
            if (code == Http2Error.REFUSED_STREAM.code()) {
                ctx.fireExceptionCaught(new UnprocessedRequestException("the upstream refused the stream "
                        + "(REFUSED_STREAM)"));
            } else {
                Http2Error e = Http2Error.valueOf(code);
                ctx.fireExceptionCaught(new IOException("the upstream reset the stream ("
                        + (e == null ? "error " + code : e.name()) + ")"));
            }
            return;
        }
        if (evt instanceof Http2GoAwayFrame goAway) {
            int last = goAway.lastStreamId();
            ReferenceCountUtil.release(evt);
            // Before anyone retries: the connection's own handler hears of the GOAWAY only after its streams did.
            connection.noNewStreams();
            if (ctx.channel() instanceof Http2StreamChannel s && s.stream() != null && s.stream().id() > last) {
                ctx.fireExceptionCaught(new UnprocessedRequestException("the upstream is going away (GOAWAY) and "
                        + "did not process the request"));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Opening a stream the connection may not open any more (GOAWAY received, limit reached) fails its first
        // write with REFUSED_STREAM: nothing went, so it is as safe to retry as a refused stream.
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Http2Exception h && h.error() == Http2Error.REFUSED_STREAM) {
                ctx.fireExceptionCaught(new UnprocessedRequestException("the stream could not be opened ("
                        + h.getMessage() + ")"));
                return;
            }
        }
        ctx.fireExceptionCaught(cause);
    }

    /**
     * A gRPC "trailers-only" response (one HEADERS frame with END_STREAM carrying grpc-status) is split here into a
     * head and an end, and the client side writes those as two frames: the status must then travel in the
     * trailers, where a gRPC client reads it (a status in headers that do not end the stream is not one).
     */
    private static void moveGrpcStatusToTrailers(HttpHeaders headers, HttpHeaders trailers) {
        if (!headers.contains(GRPC_STATUS)) {
            return;
        }
        for (AsciiString name : GRPC_TRAILERS) {
            String v = headers.get(name);
            if (v != null) {
                trailers.set(name, v);
                headers.remove(name);
            }
        }
    }

    private static void strip(HttpHeaders h) {
        for (ExtensionHeaderNames n : EXTENSIONS) {
            h.remove(n.text());
        }
    }
}
