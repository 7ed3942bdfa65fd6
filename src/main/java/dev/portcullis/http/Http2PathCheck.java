package dev.portcullis.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * First in an HTTP/2 stream's pipeline: a request whose {@code :path} holds a space or a control character is
 * malformed (RFC 9113 §8.3.1; it could never be an HTTP/1.1 request line) and the stream is reset with
 * PROTOCOL_ERROR before Netty converts it. That conversion would refuse it too, but (Netty 4.2.18) only after
 * allocating the request's content buffer, which it then leaks: a remotely triggerable leak per request.
 */
final class Http2PathCheck extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame f && f.headers().path() != null && !isClean(f.headers().path())) {
            ReferenceCountUtil.release(msg);
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static boolean isClean(CharSequence path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                return false;
            }
        }
        return true;
    }
}
