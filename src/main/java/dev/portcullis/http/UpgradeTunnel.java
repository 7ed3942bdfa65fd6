package dev.portcullis.http;

import dev.portcullis.upstream.pool.UpstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WebSocket connection after the upstream's {@code 101 Switching Protocols}: both connections leave HTTP and
 * relay raw bytes, each way, until one side closes. Nothing is parsed or aggregated: a chunk read from one side is
 * written to the other, flushed once per read batch, and a side stops reading while the other cannot take more.
 *
 * <p>Bytes already read but not decoded when the switch happens are not lost: the client's decoder held what
 * followed the upgrade request ({@link StrictRequestDecoder}), the upstream's codec holds what followed the 101,
 * and removing a decoder hands its undecoded bytes to the next handler, which is by then this tunnel.
 *
 * <p>A half-close (FIN) is passed on where both ends are plain TCP; with TLS on either end, one side's end closes
 * both. {@code idle_timeout} of silence in both directions closes both (as nginx's proxy_read_timeout on an
 * upgraded connection). Both channels are on the same event loop (the pools are per loop), so this needs no locks.
 */
final class UpgradeTunnel implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(UpgradeTunnel.class);
    /** How long a closing side may take to send what is still queued for it before it is closed anyway. */
    private static final long CLOSE_GRACE_MILLIS = 5000;

    private final HttpProxyHandler handler;
    private final Exchange ex;
    private final Runnable release;
    private final long idleNanos;
    final Side client;
    final Side upstream;
    private long lastActivity;
    private ScheduledFuture<?> idleTask;
    private boolean ended;

    private UpgradeTunnel(HttpProxyHandler handler, Exchange ex, Channel clientChannel, Channel upstreamChannel,
            Runnable release, long idleNanos) {
        this.handler = handler;
        this.ex = ex;
        this.release = release;
        this.idleNanos = idleNanos;
        this.client = new Side(clientChannel, "client");
        this.upstream = new Side(upstreamChannel, "upstream");
        client.peer = upstream;
        upstream.peer = client;
    }

    /**
     * Takes over both connections. The 101 must already be written to the client (through its encoder, which goes
     * now). The order matters: each side's decoder is removed only once the other side writes raw bytes, since
     * removing it delivers the bytes it held.
     *
     * @param release gives back the upstream's circuit breaker slot and the endpoint's in-flight count, once
     */
    static UpgradeTunnel start(HttpProxyHandler handler, Exchange ex, Channel upstreamChannel, Runnable release,
            long idleNanos) {
        Channel clientChannel = handler.ctx.channel();
        UpgradeTunnel t = new UpgradeTunnel(handler, ex, clientChannel, upstreamChannel, release, idleNanos);
        t.lastActivity = System.nanoTime();
        try {
            ChannelPipeline cp = clientChannel.pipeline();
            cp.replace(handler, "tunnel", t.client);
            removeIfPresent(cp, ProxyResponseEncoder.class);
            if (cp.get(HttpPipelines.ACTIVITY) != null) {
                cp.remove(HttpPipelines.ACTIVITY);
            }
            ChannelPipeline up = upstreamChannel.pipeline();
            if (up.get(UpstreamConnection.class) != null) {
                up.replace(UpstreamConnection.class, "tunnel", t.upstream);
            } else {
                up.addLast("tunnel", t.upstream); // a CONNECT's own raw connection
            }
            removeIfPresent(up, HttpClientCodec.class); // hands on what followed the 101: written to the client
            removeIfPresent(cp, StrictRequestDecoder.class); // hands on what followed the request: written upstream
        } catch (RuntimeException e) {
            // A pipeline this class does not know: never leave the two connections half switched.
            log.error("listener {}: route {}: cannot switch to a websocket tunnel; closing both connections "
                    + "(request id {})", handler.listener().name(), ex.route.name(), ex.requestId, e);
            t.end(false);
            return t;
        }
        t.client.allowHalfClosure();
        t.upstream.allowHalfClosure();
        clientChannel.config().setAutoRead(true);
        upstreamChannel.config().setAutoRead(true);
        clientChannel.flush();
        upstreamChannel.flush();
        if (!clientChannel.isActive() || !upstreamChannel.isActive()) {
            t.end(true);
        } else {
            t.arm(t.lastActivity + idleNanos);
        }
        return t;
    }

    private static void removeIfPresent(ChannelPipeline p, Class<? extends io.netty.channel.ChannelHandler> type) {
        if (p.get(type) != null) {
            p.remove(type);
        }
    }

    private void arm(long at) {
        idleTask = client.channel.eventLoop().schedule(this, Math.max(0, at - System.nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    /** The idle check: re-arms itself for the last activity instead of being rescheduled on every read. */
    @Override
    public void run() {
        idleTask = null;
        if (ended) {
            return;
        }
        long due = lastActivity + idleNanos;
        if (System.nanoTime() - due >= 0) {
            log.debug("listener {}: route {}: websocket idle for {} ms, closing (request id {})",
                    handler.listener().name(), ex.route.name(), idleNanos / 1_000_000, ex.requestId);
            end(false);
        } else {
            arm(due);
        }
    }

    /**
     * Ends the tunnel once: both connections close (after what is queued for them, unless {@code graceful} is
     * false), the upstream's slots are given back, and the exchange is logged and counted.
     */
    private void end(boolean graceful) {
        if (ended) {
            return;
        }
        ended = true;
        if (idleTask != null) {
            idleTask.cancel(false);
            idleTask = null;
        }
        client.close(graceful);
        upstream.close(graceful);
        release.run();
        handler.tunnelEnded(ex, client.bytesIn, upstream.bytesIn);
    }

    boolean ended() {
        return ended;
    }

    /** One end of the tunnel: the last handler of its channel, reading there and writing to the other end. */
    final class Side extends ChannelInboundHandlerAdapter {
        final Channel channel;
        private final String name;
        Side peer;
        /** Bytes read from this side (written to the peer). */
        long bytesIn;
        /** Written to this side's channel since the last flush. */
        private boolean unflushed;
        private boolean inputShut;

        Side(Channel channel, String name) {
            this.channel = channel;
            this.name = name;
        }

        /** Lets a FIN be reported (instead of closing at once) where it can be passed on: plain TCP only. */
        void allowHalfClosure() {
            if (channel instanceof DuplexChannel && channel.pipeline().get(SslHandler.class) == null) {
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b) || ended) {
                // The upstream codec's end marker of the 101 (no bytes), or a read racing the end.
                ReferenceCountUtil.release(msg);
                return;
            }
            int n = b.readableBytes();
            if (n == 0) {
                b.release();
                return;
            }
            bytesIn += n;
            lastActivity = System.nanoTime();
            Channel out = peer.channel;
            out.write(b, out.voidPromise());
            peer.unflushed = true;
            if (!out.isWritable()) {
                channel.config().setAutoRead(false); // resumed when the peer drains (its writability event)
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flushIfNeeded();
            ctx.fireChannelReadComplete();
        }

        private void flushIfNeeded() {
            if (unflushed) {
                unflushed = false;
                channel.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (channel.isWritable() && !ended) {
                peer.channel.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown();
            }
            ctx.fireUserEventTriggered(evt);
        }

        /** This side sent FIN: pass it on, and end when both sides have. */
        private void inputShutdown() {
            inputShut = true;
            if (ended) {
                return;
            }
            if (peer.inputShut) {
                end(true);
                return;
            }
            Channel out = peer.channel;
            if (out instanceof DuplexChannel d && out.pipeline().get(SslHandler.class) == null && out.isActive()) {
                out.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    if (out.isActive()) {
                        d.shutdownOutput();
                    }
                });
            } else {
                end(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(true);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof java.io.IOException)) {
                log.warn("listener {}: route {}: websocket {} side: {} (request id {})", handler.listener().name(),
                        ex.route.name(), name, cause.toString(), ex.requestId);
            }
            ctx.close();
        }

        /** Closes this side after what is queued for it (bounded by {@link #CLOSE_GRACE_MILLIS}), or at once. */
        private void close(boolean graceful) {
            if (!channel.isActive()) {
                return;
            }
            if (!graceful) {
                channel.close();
                return;
            }
            ScheduledFuture<?> force = channel.eventLoop().schedule(() -> {
                channel.close();
            }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                force.cancel(false);
                channel.close();
            });
        }
    }
}
