package dev.portcullis.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two connections relaying raw bytes to each other until one side closes: a WebSocket after its 101, an HTTP
 * {@code CONNECT} tunnel, a SOCKS5 {@code CONNECT}. Nothing is parsed or aggregated: a chunk read from one side is
 * written to the other, flushed once per read batch, and a side stops reading while the other cannot take more
 * (backpressure through the channels' write buffer water marks).
 *
 * <p>A half-close (FIN) is passed on where both ends are plain TCP; with TLS on either end, one side's end closes
 * both. {@code idle_timeout} of silence in both directions closes both (as nginx's proxy_read_timeout on an
 * upgraded connection). Both channels are on the same event loop, so this needs no locks.
 *
 * <p>Use: {@link #between}, put {@link #clientSide()} and {@link #upstreamSide()} last in their pipelines (removing
 * what the protocol before the relay needed: a decoder removed after the relay's side is in place hands its
 * undecoded bytes on to it), then {@link #start()}.
 */
public final class Relay implements Runnable {
    private static final io.netty.channel.AdaptiveRecvByteBufAllocator TUNNEL_READS =
            new io.netty.channel.AdaptiveRecvByteBufAllocator(1024, 16 * 1024, 256 * 1024);
    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** How long a closing side may take to send what is still queued for it before it is closed anyway. */
    private static final long CLOSE_GRACE_MILLIS = 5000;

    /** Told once when the relay ends, with the bytes read from each side (each written to the other). */
    @FunctionalInterface
    public interface Ended {
        void ended(long fromClient, long fromUpstream);
    }

    private final String name;
    private final long idleNanos;
    private final Ended onEnd;
    private final Side client;
    private final Side upstream;
    private long lastActivity;
    private ScheduledFuture<?> idleTask;
    private boolean started;
    private boolean ended;

    private Relay(Channel clientChannel, Channel upstreamChannel, long idleNanos, String name, Ended onEnd) {
        this.name = name;
        this.idleNanos = idleNanos;
        this.onEnd = onEnd;
        this.client = new Side(clientChannel, "client");
        this.upstream = new Side(upstreamChannel, "upstream");
        client.peer = upstream;
        upstream.peer = client;
    }

    /**
     * A relay between two connections of the same event loop, not yet running.
     *
     * @param idleNanos how long both directions may be silent before both connections close
     * @param name      what the relay is, for log lines: "listener web: route ws: websocket (request id X)"
     */
    public static Relay between(Channel client, Channel upstream, long idleNanos, String name, Ended onEnd) {
        if (client.eventLoop() != upstream.eventLoop()) {
            throw new IllegalArgumentException("a relay's connections must share an event loop");
        }
        return new Relay(client, upstream, idleNanos, name, onEnd);
    }

    /** The handler to put last in the client's pipeline. */
    public ChannelInboundHandlerAdapter clientSide() {
        return client;
    }

    /** The handler to put last in the upstream connection's pipeline. */
    public ChannelInboundHandlerAdapter upstreamSide() {
        return upstream;
    }

    /** Both sides are in place: read from both, pass half-closes on, send what was written before, time idleness. */
    public void start() {
        started = true;
        lastActivity = System.nanoTime();
        if (ended) {
            return;
        }
        client.allowHalfClosure();
        upstream.allowHalfClosure();
        // a tunnel moves bulk bytes: reads start at 16 KiB and grow to 256 KiB (HTTP's allocator starts at 2 KiB
        // and stops at 64 KiB), so a busy tunnel makes fewer reads, writes and flushes per megabyte
        client.channel.config().setRecvByteBufAllocator(TUNNEL_READS);
        upstream.channel.config().setRecvByteBufAllocator(TUNNEL_READS);
        client.channel.config().setAutoRead(true);
        upstream.channel.config().setAutoRead(true);
        client.channel.flush();
        upstream.channel.flush();
        if (!client.channel.isActive() || !upstream.channel.isActive()) {
            end(true);
        } else {
            arm(lastActivity + idleNanos);
        }
    }

    /**
     * Ends the relay once: both connections close (after what is queued for them, unless {@code graceful} is
     * false), and {@link Ended} is told.
     */
    public void end(boolean graceful) {
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
        onEnd.ended(client.bytesIn, upstream.bytesIn);
    }

    public boolean ended() {
        return ended;
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
            log.debug("{}: idle for {} ms, closing", name, idleNanos / 1_000_000);
            end(false);
        } else {
            arm(due);
        }
    }

    /** One end of the relay: the last handler of its channel, reading there and writing to the other end. */
    public final class Side extends ChannelInboundHandlerAdapter {
        private final Channel channel;
        private final String side;
        private Side peer;
        /** Bytes read from this side (written to the peer). */
        private long bytesIn;
        /** Written to this side's channel since the last flush. */
        private boolean unflushed;
        private boolean inputShut;

        private Side(Channel channel, String side) {
            this.channel = channel;
            this.side = side;
        }

        /** Lets a FIN be reported (instead of closing at once) where it can be passed on: plain TCP only. */
        private void allowHalfClosure() {
            if (channel instanceof DuplexChannel && channel.pipeline().get(SslHandler.class) == null) {
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b) || ended) {
                // A codec's end marker (an HTTP 101's empty last content), or a read racing the end.
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
            if (channel.isWritable() && started && !ended) {
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
                log.warn("{}: {} side: {}", name, side, cause.toString());
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
