package dev.portcullis.upstream.pool;

import dev.portcullis.net.CoalescingFlush;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection to an endpoint ({@code protocol: http2} or {@code h2c}) and the last handler of its
 * pipeline. Each request gets a stream child channel whose pipeline is the stream codec, an
 * {@link UpstreamStreamAdapter} and an {@link UpstreamConnection}, so the proxy speaks HttpObjects to it as to an
 * HTTP/1.1 connection; giving the stream back closes it, and the connection stays in its pool until it has been
 * without streams for the idle timeout, or the upstream sends GOAWAY (no new streams from then on; it closes once
 * its streams are done).
 *
 * <p>The connection counts as connected once the endpoint's SETTINGS arrived (it speaks HTTP/2, and its
 * SETTINGS_MAX_CONCURRENT_STREAMS is known). Requests that need a stream before then wait for it here. Only its
 * pool's event loop touches it.
 */
final class MultiplexedConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(MultiplexedConnection.class);
    /** Streams one connection takes even when the endpoint allows more (and before its SETTINGS came). */
    static final int MAX_STREAMS = 256;
    static final int INITIAL_WINDOW = 1024 * 1024;
    static final int CONNECTION_WINDOW = 4 * 1024 * 1024;

    final Endpoint endpoint;
    final ConnectionSettings settings;
    private final UpstreamPools pools;
    private Channel channel;
    private Http2FrameCodec codec;
    private Http2StreamChannelBootstrap bootstrap;
    private Promise<Channel> readyPromise;
    private boolean ready;
    private boolean goingAway;
    private int openStreams;
    /** Requests waiting for this connection to be ready; each gets a stream then. */
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    long idleSinceNanos = System.nanoTime();
    long idleTimeoutNanos;
    int maxIdle;

    record Waiter(Promise<UpstreamConnection> promise, Upstream upstream) {}

    MultiplexedConnection(Endpoint endpoint, ConnectionSettings settings, UpstreamPools pools, Upstream upstream) {
        this.endpoint = endpoint;
        this.settings = settings;
        this.pools = pools;
        limits(upstream);
    }

    private void limits(Upstream upstream) {
        this.idleTimeoutNanos = upstream.idleTimeoutNanos();
        this.maxIdle = upstream.maxIdlePerEndpoint();
    }

    /** The {@link UpstreamConnector.Installer}: HTTP/2 codec, coalesced stream flushes, multiplexer and this handler. */
    void install(Channel ch, Promise<Channel> ready) {
        this.channel = ch;
        this.readyPromise = ready;
        codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .initialWindowSize(INITIAL_WINDOW)
                        .maxHeaderListSize(UpstreamPools.MAX_RESPONSE_HEADERS))
                .build();
        ch.pipeline().addLast("h2", codec);
        ch.pipeline().addLast("h2-flush", new CoalescingFlush());
        ch.pipeline().addLast("h2-streams", new Http2MultiplexHandler(RefusePushedStreams.INSTANCE));
        ch.pipeline().addLast("h2-connection", this);
        bootstrap = new Http2StreamChannelBootstrap(ch).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                s.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false, true), new UpstreamStreamAdapter(MultiplexedConnection.this),
                        new UpstreamConnection(endpoint, pools, settings, MultiplexedConnection.this));
            }
        });
    }

    Channel channel() {
        return channel;
    }

    boolean ready() {
        return ready;
    }

    /** Whether a new request may join this connection while it connects. */
    boolean mayWait() {
        return !ready && !goingAway && waiters.size() < MAX_STREAMS;
    }

    void await(Waiter w) {
        waiters.add(w);
    }

    /** Ready, not going away, below its concurrent stream limit. */
    boolean canOpen() {
        return ready && !goingAway && channel.isActive() && openStreams < maxStreams()
                && !codec.connection().goAwayReceived();
    }

    /** The endpoint sent GOAWAY: streams in flight go on, no new ones (see {@link #retire} for closing). */
    void noNewStreams() {
        goingAway = true;
    }

    private int maxStreams() {
        return (int) Math.min(MAX_STREAMS, codec.connection().local().maxActiveStreams());
    }

    int openStreams() {
        return openStreams;
    }

    boolean goingAway() {
        return goingAway;
    }

    /** A new stream for one request; null when the connection cannot open one now. */
    UpstreamConnection openStream(Upstream upstream) {
        if (!canOpen()) {
            return null;
        }
        Future<Http2StreamChannel> f = bootstrap.open();
        if (!f.isDone()) {
            // Never seen on the connection's own loop (registration is immediate there); refuse rather than wait.
            f.addListener(done -> {
                if (done.isSuccess()) {
                    ((Http2StreamChannel) done.getNow()).close();
                }
            });
            return null;
        }
        if (!f.isSuccess()) {
            log.debug("upstream {}: opening a stream to {} failed: {}", endpoint.upstreamName(), endpoint.label(),
                    f.cause().toString());
            return null;
        }
        limits(upstream);
        Http2StreamChannel s = f.getNow();
        openStreams++;
        s.closeFuture().addListener(closed -> streamClosed());
        return s.pipeline().get(UpstreamConnection.class);
    }

    private void streamClosed() {
        openStreams--;
        if (openStreams == 0) {
            idleSinceNanos = System.nanoTime();
            pools.multiplexedIdle(this);
        }
    }

    /** The connection is up and the endpoint's SETTINGS came: serve the requests that waited. */
    void served() {
        while (!waiters.isEmpty()) {
            Waiter w = waiters.poll();
            UpstreamConnection c = openStream(w.upstream());
            if (c != null) {
                if (!w.promise().trySuccess(c)) {
                    c.discard();
                }
            } else {
                // More waited than the endpoint allows on one connection: they go to another one.
                pools.connect(endpoint, w.upstream()).addListener(r -> {
                    if (r.isSuccess()) {
                        if (!w.promise().trySuccess((UpstreamConnection) r.getNow())) {
                            ((UpstreamConnection) r.getNow()).discard();
                        }
                    } else {
                        w.promise().tryFailure(r.cause());
                    }
                });
            }
        }
    }

    void failWaiters(Throwable cause) {
        Waiter w;
        while ((w = waiters.poll()) != null) {
            w.promise().tryFailure(cause);
        }
    }

    /** No new streams; closed once the last one ended (at once when there is none). */
    void retire() {
        goingAway = true;
        if (channel != null && openStreams == 0) {
            channel.close();
        }
    }

    // ---- the connection's own events ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame && !ready) {
                ready = true;
                widenConnectionWindow(ctx);
                readyPromise.trySuccess(ctx.channel());
            } else if (msg instanceof Http2GoAwayFrame g) {
                log.debug("upstream {}: endpoint {} sent GOAWAY (last stream {}, error {}): no new streams on this "
                        + "connection", endpoint.upstreamName(), endpoint.label(), g.lastStreamId(), g.errorCode());
                retire();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** The connection-level window starts at 64 KiB whatever SETTINGS say; many streams need more. */
    private void widenConnectionWindow(ChannelHandlerContext ctx) {
        try {
            var conn = codec.connection();
            conn.local().flowController().incrementWindowSize(conn.connectionStream(),
                    CONNECTION_WINDOW - Http2CodecDefaults.WINDOW);
            ctx.flush();
        } catch (Http2Exception e) {
            log.debug("upstream {}: could not widen the HTTP/2 connection window: {}", endpoint.upstreamName(),
                    e.toString());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        goingAway = true;
        pools.forget(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!ready) {
            readyPromise.tryFailure(new UpstreamConnectException("the endpoint does not speak HTTP/2 ("
                    + settings.protocol().key + ")", cause));
        } else {
            log.debug("upstream {}: HTTP/2 connection to {} failed: {}", endpoint.upstreamName(), endpoint.label(),
                    cause.toString());
        }
        ctx.close();
    }

    /** Push is off in our SETTINGS; a stream the endpoint opens anyway is closed at once. */
    @ChannelHandler.Sharable
    private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
        static final RefusePushedStreams INSTANCE = new RefusePushedStreams();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    private static final class Http2CodecDefaults {
        static final int WINDOW = io.netty.handler.codec.http2.Http2CodecUtil.DEFAULT_WINDOW_SIZE;
    }
}
