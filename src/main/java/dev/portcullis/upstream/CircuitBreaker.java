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

    /** @return null when a request may start (and it is counted), else which limit is reached */
    public String tryStartRequest() {
        int max = limits.maxRequests();
        if (max > 0 && requests.incrementAndGet() > max) {
            requests.decrementAndGet();
            return "max_requests (" + max + ")";
        } else if (max <= 0) {
            requests.incrementAndGet();
        }
        return null;
    }

    public void requestFinished() {
        requests.decrementAndGet();
    }

    /** @return null when a new connection may be opened (it is counted as pending), else which limit is reached */
    public String tryStartConnect() {
        int maxConn = limits.maxConnections();
        if (maxConn > 0 && connections.get() >= maxConn) {
            return "max_connections (" + maxConn + ")";
        }
        int maxPending = limits.maxPending();
        if (maxPending > 0 && pending.incrementAndGet() > maxPending) {
            pending.decrementAndGet();
            return "max_pending (" + maxPending + ")";
        } else if (maxPending <= 0) {
            pending.incrementAndGet();
        }
        return null;
    }

    /** A connect counted by {@link #tryStartConnect} ended; {@code open} when it gave a connection. */
    public void connectFinished(boolean open) {
        pending.decrementAndGet();
        if (open) {
            connections.incrementAndGet();
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

    public int requests() {
        return requests.get();
    }
}
