package dev.portcullis.upstream;

import dev.portcullis.config.UpstreamConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Envoy-style circuit breaking of one upstream: counts of open connections, requests waiting for a connection and
 * requests in flight, across every event loop. Over a limit, the request is answered 503 at once instead of
 * queueing behind an upstream that cannot keep up. A limit of 0 means none.
 */
public final class CircuitBreaker {
    private final UpstreamConfig.CircuitBreaker limits;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    CircuitBreaker(UpstreamConfig.CircuitBreaker limits) {
        this.limits = limits;
    }

    /**
     * Without {@code max_requests} nothing is counted: one counter shared by every event loop would cost each
     * request a contended atomic for no purpose (the endpoints' own in-flight counts serve the admin API).
     *
     * @return null when a request may start (and it is counted), else which limit is reached
     */
    public String tryStartRequest() {
        int max = limits.maxRequests();
        if (max > 0 && requests.incrementAndGet() > max) {
            requests.decrementAndGet();
            return "max_requests (" + max + ")";
        }
        return null;
    }

    /** Pairs with a {@link #tryStartRequest} that returned null. */
    public void requestFinished() {
        if (limits.maxRequests() > 0) {
            requests.decrementAndGet();
        }
    }

    /**
     * Reserves a connection before it is opened, so that connects still in progress count against
     * {@code max_connections} (checking only finished ones would let a burst open hundreds at once).
     *
     * @return null when a new connection may be opened (it is counted as open and pending), else which limit is
     *         reached
     */
    public String tryStartConnect() {
        int maxConn = limits.maxConnections();
        if (connections.incrementAndGet() > maxConn && maxConn > 0) {
            connections.decrementAndGet();
            return "max_connections (" + maxConn + ")";
        }
        int maxPending = limits.maxPending();
        if (pending.incrementAndGet() > maxPending && maxPending > 0) {
            pending.decrementAndGet();
            connections.decrementAndGet();
            return "max_pending (" + maxPending + ")";
        }
        return null;
    }

    /** A connect counted by {@link #tryStartConnect} ended; {@code open} when it gave a connection. */
    public void connectFinished(boolean open) {
        pending.decrementAndGet();
        if (!open) {
            connections.decrementAndGet();
        }
    }

    public void connectionClosed() {
        connections.decrementAndGet();
    }

    public int connections() {
        return connections.get();
    }

    public int pending() {
        return pending.get();
    }

    /** Requests counted against {@code max_requests}; 0 without that limit. */
    public int requests() {
        return requests.get();
    }
}
