package dev.portcullis.upstream.pool;

import dev.portcullis.net.Transport;
import dev.portcullis.upstream.CircuitBreaker;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The upstream connections of ONE event loop, per endpoint. Only that loop's thread touches it, so it needs no
 * locks; a client connection always borrows from the pools of its own loop, so upstream I/O stays on the same
 * thread as the client's. Endpoints are reused across reloads for unchanged upstreams, so their pools survive a
 * reload. A sweep every second closes connections idle longer than their upstream allows, and those above
 * {@code max_idle_per_endpoint} that sat idle for the whole second (a burst may leave more idle for a moment).
 *
 * <p>The pool key is the whole connection identity: the endpoint AND the upstream's {@link ConnectionSettings}
 * (protocol, TLS settings and files). A connection is handed out only to an upstream whose settings equal those it
 * was opened with; one that no longer matches (a reload changed {@code tls}) is closed when met.
 *
 * <p>The API is the same for every protocol: {@link #poll} gives a ready {@link UpstreamConnection} at once or
 * null, {@link #connect} a future one, {@link #release} takes it back. For HTTP/1.1 that is a whole connection,
 * pooled when idle. For HTTP/2 ({@code http2}, {@code h2c}) it is a stream on a {@link MultiplexedConnection}: one
 * per endpoint (more when the endpoint's SETTINGS_MAX_CONCURRENT_STREAMS is reached), and the circuit breaker's
 * {@code max_connections} and {@code max_idle_per_endpoint} count those connections, not streams.
 */
public final class UpstreamPools {
    static final int MAX_RESPONSE_LINE = 16 * 1024;
    static final int MAX_RESPONSE_HEADERS = 64 * 1024;
    static final int MAX_CHUNK = 1024 * 1024;
    private static final long SWEEP_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final EventLoop loop;
    private final Transport transport;
    private final Map<Endpoint, EndpointPool> byEndpoint = new IdentityHashMap<>();

    /** One endpoint's idle HTTP/1.1 connections and its HTTP/2 connections (busy or not). */
    private static final class EndpointPool {
        final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();
        final List<MultiplexedConnection> multiplexed = new ArrayList<>(2);
        /** The upstream's max_idle_per_endpoint as of the last release; the sweep trims the idle list to it. */
        int maxIdle = Integer.MAX_VALUE;

        boolean isEmpty() {
            return idle.isEmpty() && multiplexed.isEmpty();
        }
    }

    UpstreamPools(EventLoop loop, Transport transport) {
        this.loop = loop;
        this.transport = transport;
        loop.scheduleAtFixedRate(this::sweep, SWEEP_PERIOD_NANOS, SWEEP_PERIOD_NANOS, TimeUnit.NANOSECONDS);
    }

    /**
     * @return a connection to the endpoint ready for a request, opened with {@code upstream}'s settings: an idle
     *     HTTP/1.1 one, or a new stream on an HTTP/2 connection with room; null when there is none
     */
    public UpstreamConnection poll(Endpoint endpoint, Upstream upstream) {
        EndpointPool p = byEndpoint.get(endpoint);
        if (p == null) {
            return null;
        }
        ConnectionSettings s = upstream.connection();
        if (s.multiplexed()) {
            for (int i = 0; i < p.multiplexed.size(); i++) {
                MultiplexedConnection m = p.multiplexed.get(i);
                if (m.settings.sameAs(s)) {
                    UpstreamConnection c = m.openStream(upstream);
                    if (c != null) {
                        return c;
                    }
                }
            }
            return null;
        }
        UpstreamConnection c;
        while ((c = p.idle.pollLast()) != null) {
            if (c.channel().isActive()) {
                if (c.settings.sameAs(s)) {
                    return c;
                }
                c.channel().close(); // opened with settings a reload replaced: never wanted again
            }
        }
        return null;
    }

    /**
     * A new connection (or, for HTTP/2, a stream on a connection being opened or with room). The future fails
     * with {@link CircuitOpenException} when the upstream's breaker refuses another connection, with an
     * {@link UpstreamConnectException} naming why TLS or HTTP/2 could not be set up, or with the connect error.
     * The breaker learns when a connect ends and, if it opened, when the connection closes, whoever holds it then.
     */
    public Future<UpstreamConnection> connect(Endpoint endpoint, Upstream upstream) {
        ConnectionSettings s = upstream.connection();
        if (s.multiplexed()) {
            return connectMultiplexed(endpoint, upstream, s);
        }
        CircuitBreaker breaker = upstream.breaker();
        String limit = breaker.tryStartConnect();
        if (limit != null) {
            return loop.newFailedFuture(new CircuitOpenException(limit));
        }
        UpstreamConnection handler = new UpstreamConnection(endpoint, this, s, null);
        Promise<UpstreamConnection> result = loop.newPromise();
        UpstreamConnector.open(loop, transport, endpoint, s, upstream.connectTimeoutMillis(), (ch, ready) -> {
            HttpDecoderConfig cfg = new HttpDecoderConfig()
                    .setMaxInitialLineLength(MAX_RESPONSE_LINE)
                    .setMaxHeaderSize(MAX_RESPONSE_HEADERS)
                    .setMaxChunkSize(MAX_CHUNK);
            ch.pipeline().addLast(new HttpClientCodec(cfg, false, false));
            ch.pipeline().addLast(handler);
            ready.setSuccess(ch);
        }).addListener(done -> {
            // Counted before the caller hears of it, so the counts are right before the connection is used.
            breaker.connectFinished(done.isSuccess());
            if (done.isSuccess()) {
                ((Channel) done.getNow()).closeFuture().addListener(closed -> breaker.connectionClosed());
                result.setSuccess(handler);
            } else {
                result.setFailure(done.cause());
            }
        });
        return result;
    }

    private Future<UpstreamConnection> connectMultiplexed(Endpoint endpoint, Upstream upstream, ConnectionSettings s) {
        EndpointPool p = byEndpoint.computeIfAbsent(endpoint, e -> new EndpointPool());
        MultiplexedConnection joining = null;
        for (int i = 0; i < p.multiplexed.size(); i++) {
            MultiplexedConnection m = p.multiplexed.get(i);
            if (!m.settings.sameAs(s)) {
                continue;
            }
            UpstreamConnection c = m.openStream(upstream);
            if (c != null) {
                return loop.newSucceededFuture(c);
            }
            if (joining == null && m.mayWait()) {
                joining = m;
            }
        }
        Promise<UpstreamConnection> result = loop.newPromise();
        if (joining != null) {
            joining.await(new MultiplexedConnection.Waiter(result, upstream));
            return result;
        }
        CircuitBreaker breaker = upstream.breaker();
        String limit = breaker.tryStartConnect();
        if (limit != null) {
            return loop.newFailedFuture(new CircuitOpenException(limit));
        }
        MultiplexedConnection m = new MultiplexedConnection(endpoint, s, this, upstream);
        m.await(new MultiplexedConnection.Waiter(result, upstream));
        p.multiplexed.add(m);
        UpstreamConnector.open(loop, transport, endpoint, s, upstream.connectTimeoutMillis(), m::install)
                .addListener(done -> {
                    breaker.connectFinished(done.isSuccess());
                    if (done.isSuccess()) {
                        ((Channel) done.getNow()).closeFuture().addListener(closed -> breaker.connectionClosed());
                        m.served();
                        if (m.openStreams() == 0) {
                            multiplexedIdle(m); // every waiter gave up meanwhile
                        }
                    } else {
                        forget(m);
                        m.failWaiters(done.cause());
                    }
                });
        return result;
    }

    /**
     * The request is done with the connection. An HTTP/1.1 connection is kept for reuse when the upstream allows
     * another idle one (closed otherwise); a stream is closed, its HTTP/2 connection stays.
     */
    public void release(UpstreamConnection c, Upstream upstream) {
        c.user(null);
        if (c.multiplexed()) {
            c.channel().close();
            return;
        }
        if (!c.channel().isActive()) {
            return;
        }
        if (c.endpoint().retired() || !c.settings.sameAs(upstream.connection())) {
            c.channel().close();
            return;
        }
        int max = upstream.maxIdlePerEndpoint();
        if (max == 0) {
            c.channel().close();
            return;
        }
        EndpointPool p = byEndpoint.get(c.endpoint());
        if (p == null) {
            p = new EndpointPool();
            byEndpoint.put(c.endpoint(), p);
        }
        // Kept even above max: the sweep closes the surplus once it has sat idle a whole sweep period. Closing
        // it here would cost a new connection on the next burst (measured: 160 concurrent HTTP/2 streams on two
        // event loops against the default 64 churned connections and cost a third of the proxy's CPU).
        p.maxIdle = max;
        c.idleSinceNanos = System.nanoTime();
        c.idleTimeoutNanos = upstream.idleTimeoutNanos();
        p.idle.addLast(c);
    }

    /**
     * An HTTP/2 connection's last stream ended: it stays for the next requests unless it is going away, its
     * endpoint left the config, or the endpoint has more idle connections than {@code max_idle_per_endpoint}.
     */
    void multiplexedIdle(MultiplexedConnection m) {
        if (m.goingAway() || m.endpoint.retired()) {
            m.retire();
            return;
        }
        EndpointPool p = byEndpoint.get(m.endpoint);
        int idle = 0;
        if (p != null) {
            for (MultiplexedConnection x : p.multiplexed) {
                if (x.ready() && x.openStreams() == 0 && !x.goingAway()) {
                    idle++;
                }
            }
        }
        if (idle > m.maxIdle) {
            m.retire();
        }
    }

    void forget(UpstreamConnection c) {
        EndpointPool p = byEndpoint.get(c.endpoint());
        if (p != null) {
            p.idle.remove(c);
        }
    }

    void forget(MultiplexedConnection m) {
        EndpointPool p = byEndpoint.get(m.endpoint);
        if (p != null) {
            p.multiplexed.remove(m);
        }
    }

    public static UpstreamConnection connectionOf(Channel ch) {
        return ch.pipeline().get(UpstreamConnection.class);
    }

    private void sweep() {
        long now = System.nanoTime();
        Iterator<Map.Entry<Endpoint, EndpointPool>> it = byEndpoint.entrySet().iterator();
        while (it.hasNext()) {
            EndpointPool p = it.next().getValue();
            p.idle.removeIf(c -> {
                boolean expired = now - c.idleSinceNanos > c.idleTimeoutNanos;
                if (expired || !c.channel().isActive()) {
                    c.channel().close();
                    return true;
                }
                return false;
            });
            trimSurplus(p, now);
            for (MultiplexedConnection m : List.copyOf(p.multiplexed)) {
                if (m.ready() && m.openStreams() == 0
                        && (m.goingAway() || now - m.idleSinceNanos > m.idleTimeoutNanos)) {
                    m.retire();
                }
            }
            if (p.isEmpty()) {
                it.remove();
            }
        }
    }

    /**
     * Closes idle connections above {@code max_idle_per_endpoint}, least recently used first (reuse takes the
     * newest), but only those idle for a whole sweep period: a burst's connections stay for the next burst.
     */
    private static void trimSurplus(EndpointPool p, long now) {
        while (p.idle.size() > p.maxIdle) {
            UpstreamConnection oldest = p.idle.peekFirst();
            if (now - oldest.idleSinceNanos < SWEEP_PERIOD_NANOS) {
                return;
            }
            p.idle.pollFirst();
            oldest.channel().close();
        }
    }

    /** Closes the endpoint's idle connections; its busy HTTP/2 connections close when their streams end. */
    void closeIdle(Endpoint endpoint) {
        EndpointPool p = byEndpoint.get(endpoint);
        if (p == null) {
            return;
        }
        p.idle.forEach(c -> c.channel().close());
        p.idle.clear();
        List.copyOf(p.multiplexed).forEach(MultiplexedConnection::retire);
    }

    /** Closes every idle connection and every HTTP/2 connection (shutdown). Must run on this pool's loop. */
    public void closeAll() {
        for (EndpointPool p : byEndpoint.values()) {
            p.idle.forEach(c -> c.channel().close());
            List.copyOf(p.multiplexed).forEach(m -> {
                if (m.channel() != null) {
                    m.channel().close();
                }
            });
        }
        byEndpoint.clear();
    }

    public EventLoop loop() {
        return loop;
    }

    public Transport transport() {
        return transport;
    }
}
