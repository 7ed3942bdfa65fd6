package dev.portcullis.upstream.pool;

import dev.portcullis.tls.ClientTlsFailures;
import dev.portcullis.upstream.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import javax.net.ssl.SSLException;

/**
 * The last handler of an upstream connection's pipeline: of an HTTP/1.1 connection, or of one HTTP/2 stream
 * ({@link #multiplexed()}), whose pipeline turns frames into the same HttpObjects. While a request uses it, it
 * passes every event to that request's {@link UpstreamUser}; while pooled (HTTP/1.1 only: a stream is never
 * pooled, it ends with its request) it only watches for the peer closing (the connection then leaves the pool) or
 * sending unasked-for data (the connection is closed).
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    private final Endpoint endpoint;
    private final UpstreamPools pools;
    /** What the connection was opened with: it is reused only for an upstream with equal settings. */
    final ConnectionSettings settings;
    /** The HTTP/2 connection this stream belongs to; null for an HTTP/1.1 connection. */
    final MultiplexedConnection parent;
    private Channel channel;
    private UpstreamUser user;
    long idleSinceNanos;
    long idleTimeoutNanos;

    UpstreamConnection(Endpoint endpoint, UpstreamPools pools, ConnectionSettings settings,
                       MultiplexedConnection parent) {
        this.endpoint = endpoint;
        this.pools = pools;
        this.settings = settings;
        this.parent = parent;
    }

    /** An HTTP/2 stream rather than a connection of its own. */
    public boolean multiplexed() {
        return parent != null;
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
        if (isTls(cause)) {
            // After the handshake (TLS 1.3 reports a refused client certificate only then): say so in words.
            cause = new UpstreamConnectException("TLS failed: " + ClientTlsFailures.reason(cause), cause);
        }
        UpstreamUser u = user;
        user = null;
        if (u != null) {
            u.onUpstreamClosed(cause);
        }
        ctx.close();
    }

    private static boolean isTls(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes the connection without notifying its user (the user is giving it up). For a stream: resets it if it
     * is not over yet; the HTTP/2 connection stays.
     */
    public void discard() {
        user = null;
        if (channel != null) {
            channel.close();
        }
    }
}
