package dev.portcullis.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Put between an HTTP/2 codec and its stream multiplexer: the streams' flushes are done once, at the end of the event
 * loop's current round of I/O, for all the streams that flushed in it. Each stream is flushed from the read of
 * another connection (a client stream from its upstream connection's read, an upstream stream from its client's);
 * under load one round of ready sockets completes several streams of the same connection, and flushing each at once
 * costs one TLS record and one write system call per stream. Deferred to a task of the same loop (tasks run right
 * after the round's I/O), they share the record and the call, and the codec's flow controller writes its pending
 * DATA once (measured with h2load, 16 connections x 10 streams: 4.3 responses per write instead of 1). The codec's
 * own flushes (its read-complete, SETTINGS and PING answers) do not pass here and stay immediate; a close flushes
 * first.
 */
public final class CoalescingFlush extends ChannelOutboundHandlerAdapter {
    private final Runnable flushTask = this::flushNow;
    private ChannelHandlerContext ctx;
    private boolean scheduled;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!scheduled) {
            scheduled = true;
            ctx.executor().execute(flushTask);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (scheduled) {
            flushNow();
        }
        ctx.close(promise);
    }

    private void flushNow() {
        if (scheduled) {
            scheduled = false;
            ctx.flush();
        }
    }
}
