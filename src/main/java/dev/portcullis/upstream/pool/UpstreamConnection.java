package dev.portcullis.upstream.pool;

import dev.portcullis.upstream.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection's pipeline. While a request uses the connection it passes every
 * event to that request's {@link UpstreamUser}; while pooled it only watches for the peer closing (the
 * connection then leaves the pool) or sending unasked-for data (the connection is closed).
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    private final Endpoint endpoint;
    private final UpstreamPools pools;
    private Channel channel;
    private UpstreamUser user;
    long idleSinceNanos;
    long idleTimeoutNanos;

    UpstreamConnection(Endpoint endpoint, UpstreamPools pools) {
        this.endpoint = endpoint;
        this.pools = pools;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public Channel channel() {
        return channel;
    }

    public void user(UpstreamUser user) {
        this.user = user;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamUser u = user;
        if (u != null && msg instanceof HttpObject o) {
            u.onUpstreamRead(o);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamUser u = user;
        if (u != null) {
            u.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamUser u = user;
        if (u != null) {
            u.onUpstreamWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamUser u = user;
        if (u != null) {
            user = null;
            u.onUpstreamClosed(null);
        } else {
            pools.forget(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamUser u = user;
        user = null;
        if (u != null) {
            u.onUpstreamClosed(cause);
        }
        ctx.close();
    }

    /** Closes the connection without notifying its user (the user is giving it up). */
    public void discard() {
        user = null;
        if (channel != null) {
            channel.close();
        }
    }
}
