package dev.portcullis.upstream.pool;

import dev.portcullis.net.Transport;
import dev.portcullis.upstream.CircuitBreaker;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The idle upstream connections of ONE event loop, per endpoint. Only that loop's thread touches it, so it
 * needs no locks; a client connection always borrows from the pools of its own loop, so upstream I/O stays on
 * the same thread as the client's. Endpoints are reused across reloads for unchanged upstreams, so their
 * pools survive a reload. A sweep every second closes connections idle longer than their upstream allows.
 */
public final class UpstreamPools {
    static final int MAX_RESPONSE_LINE = 16 * 1024;
    static final int MAX_RESPONSE_HEADERS = 64 * 1024;
    static final int MAX_CHUNK = 1024 * 1024;

    private final EventLoop loop;
    private final Transport transport;
    private final Map<Endpoint, ArrayDeque<UpstreamConnection>> idle = new IdentityHashMap<>();

    UpstreamPools(EventLoop loop, Transport transport) {
        this.loop = loop;
        this.transport = transport;
        loop.scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    /** @return an idle, open connection to the endpoint, or null */
    public UpstreamConnection poll(Endpoint endpoint) {
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        if (q == null) {
            return null;
        }
        UpstreamConnection c;
        while ((c = q.pollLast()) != null) {
            if (c.channel().isActive()) {
                return c;
            }
        }
        return null;
    }

    /** Keeps the connection for reuse when the upstream allows another idle one; closes it otherwise. */
    public void release(UpstreamConnection c, Upstream upstream) {
        c.user(null);
        if (!c.channel().isActive()) {
            return;
        }
        if (c.endpoint().retired()) {
            c.channel().close();
            return;
        }
        int max = upstream.maxIdlePerEndpoint();
        ArrayDeque<UpstreamConnection> q = idle.computeIfAbsent(c.endpoint(), e -> new ArrayDeque<>());
        if (q.size() >= max) {
            c.channel().close();
            return;
        }
        c.idleSinceNanos = System.nanoTime();
        c.idleTimeoutNanos = upstream.idleTimeoutNanos();
        q.addLast(c);
    }

    void forget(UpstreamConnection c) {
        ArrayDeque<UpstreamConnection> q = idle.get(c.endpoint());
        if (q != null) {
            q.remove(c);
        }
    }

    /**
     * Opens a new connection on this loop; the future's channel carries an {@link UpstreamConnection}. The connect
     * was counted by {@code breaker} ({@link CircuitBreaker#tryStartConnect()}): the breaker learns when the
     * connect ends and, if it opened, when the connection closes, whoever holds it then (a request, the pool,
     * nobody).
     */
    public ChannelFuture connect(Endpoint endpoint, int connectTimeoutMillis, CircuitBreaker breaker) {
        UpstreamConnection handler = new UpstreamConnection(endpoint, this);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        HttpDecoderConfig cfg = new HttpDecoderConfig()
                                .setMaxInitialLineLength(MAX_RESPONSE_LINE)
                                .setMaxHeaderSize(MAX_RESPONSE_HEADERS)
                                .setMaxChunkSize(MAX_CHUNK);
                        ch.pipeline().addLast(new HttpClientCodec(cfg, false, false));
                        ch.pipeline().addLast(handler);
                    }
                });
        ChannelFuture f = b.connect(endpoint.socketAddress());
        // Added before the caller's listener, so the counts are right before the connection is used.
        f.addListener(done -> {
            breaker.connectFinished(done.isSuccess());
            if (done.isSuccess()) {
                f.channel().closeFuture().addListener(closed -> breaker.connectionClosed());
            }
        });
        return f;
    }

    public static UpstreamConnection connectionOf(Channel ch) {
        return ch.pipeline().get(UpstreamConnection.class);
    }

    private void sweep() {
        long now = System.nanoTime();
        Iterator<Map.Entry<Endpoint, ArrayDeque<UpstreamConnection>>> it = idle.entrySet().iterator();
        while (it.hasNext()) {
            ArrayDeque<UpstreamConnection> q = it.next().getValue();
            q.removeIf(c -> {
                boolean expired = now - c.idleSinceNanos > c.idleTimeoutNanos;
                if (expired || !c.channel().isActive()) {
                    c.channel().close();
                    return true;
                }
                return false;
            });
            if (q.isEmpty()) {
                it.remove();
            }
        }
    }

    /** Closes the endpoint's idle connections. Must run on this pool's loop. */
    void closeIdle(Endpoint endpoint) {
        ArrayDeque<UpstreamConnection> q = idle.remove(endpoint);
        if (q != null) {
            q.forEach(c -> c.channel().close());
        }
    }

    /** Closes every idle connection (shutdown). Must run on this pool's loop. */
    public void closeAll() {
        idle.values().forEach(q -> q.forEach(c -> c.channel().close()));
        idle.clear();
    }

    public EventLoop loop() {
        return loop;
    }
}
