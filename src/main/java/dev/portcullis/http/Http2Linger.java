package dev.portcullis.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * In front of the HTTP/2 codec: when the codec closes the connection (after its GOAWAY, once the last stream is
 * done), the socket stays open for up to {@link ResponseWriter#LINGER_MILLIS}, or until the client closes it, and
 * what the client still sends is dropped unread by the codec. A client keeps sending WINDOW_UPDATEs for the DATA it
 * consumes; closing at once with those unread makes the kernel answer with a reset, which can destroy the end of
 * the last response still waiting in the client's receive buffer (nginx lingers on HTTP/2 connections likewise).
 */
final class Http2Linger extends ChannelDuplexHandler {
    private ScheduledFuture<?> closing;
    private ChannelPromise closePromise;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (!ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        if (closePromise != null) {
            closePromise.addListener(f -> promise.trySuccess());
            return;
        }
        closePromise = promise;
        ctx.flush();
        closing = ctx.executor().schedule(() -> {
            closing = null;
            ctx.close(promise);
        }, ResponseWriter.LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closePromise != null) {
            ReferenceCountUtil.release(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (closing != null) {
            // The client closed first: the close asked for completes now.
            closing.cancel(false);
            closing = null;
            ctx.close(closePromise);
        }
        ctx.fireChannelInactive();
    }
}
