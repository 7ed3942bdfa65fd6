package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

/** Connection counters of one listener; get it once from {@link ProxyMetrics#listener}. Thread-safe. */
public final class ListenerStats {
    /** Statuses that {@link #requestRejected} resolves ahead of time; others are resolved on first use. */
    private static final int[] KNOWN_REJECTIONS = {400, 408, 413, 414, 431};

    private final ProxyMetrics metrics;
    private final String name;
    private final GaugeDataPoint active;
    private final CounterDataPoint opened;
    private final CounterDataPoint rejected;
    private final CounterDataPoint webSockets;
    private final GaugeDataPoint activeWebSockets;
    private final CounterDataPoint webSocketBytesUp;
    private final CounterDataPoint webSocketBytesDown;
    private final CounterDataPoint[] rejectedRequests = new CounterDataPoint[KNOWN_REJECTIONS.length];
    /** Resolved on the first handshake, so plain http listeners show no TLS series. */
    private volatile CounterDataPoint handshakesOk;

    ListenerStats(ProxyMetrics metrics, String name) {
        this.metrics = metrics;
        this.name = name;
        active = metrics.activeConnections.labelValues(name);
        opened = metrics.connections.labelValues(name);
        rejected = metrics.connectionsRejected.labelValues(name);
        webSockets = metrics.webSockets.labelValues(name);
        activeWebSockets = metrics.activeWebSockets.labelValues(name);
        webSocketBytesUp = metrics.webSocketBytes.labelValues(name, "upstream");
        webSocketBytesDown = metrics.webSocketBytes.labelValues(name, "client");
        for (int i = 0; i < KNOWN_REJECTIONS.length; i++) {
            rejectedRequests[i] = metrics.rejectedRequests.labelValues(name, Integer.toString(KNOWN_REJECTIONS[i]));
        }
    }

    /** A client connection was accepted. */
    public void connectionOpened() {
        opened.inc();
        active.inc();
    }

    /** A client connection that {@link #connectionOpened} counted has closed. */
    public void connectionClosed() {
        active.dec();
    }

    /** A connection was closed at once because the listener was at {@code max_connections}. */
    public void connectionRejected() {
        rejected.inc();
    }

    /** An upstream accepted a WebSocket upgrade; the tunnel is open. */
    public void webSocketOpened() {
        webSockets.inc();
        activeWebSockets.inc();
    }

    /** A tunnel that {@link #webSocketOpened} counted closed, after relaying these bytes each way. */
    public void webSocketClosed(long toUpstream, long toClient) {
        activeWebSockets.dec();
        webSocketBytesUp.inc(toUpstream);
        webSocketBytesDown.inc(toClient);
    }

    /** A request of this listener was refused by an upstream's circuit breaker. */
    public void upstreamCircuitOpen(String upstream) {
        metrics.upstreamCircuitOpen(upstream);
    }

    /** A request was refused as malformed before routing: 400, 408, 413, 414 or 431. */
    public void requestRejected(int status) {
        for (int i = 0; i < KNOWN_REJECTIONS.length; i++) {
            if (KNOWN_REJECTIONS[i] == status) {
                rejectedRequests[i].inc();
                return;
            }
        }
        metrics.rejectedRequests.labelValues(name, Integer.toString(status)).inc();
    }

    /** A TLS handshake of this listener completed. */
    public void tlsHandshakeOk() {
        CounterDataPoint ok = handshakesOk;
        if (ok == null) {
            ok = metrics.tlsHandshakes.labelValues(name, "ok");
            handshakesOk = ok;
        }
        ok.inc();
    }

    /**
     * A TLS handshake of this listener failed (rare enough to look the data point up).
     *
     * @param reason a short fixed word such as {@code protocol}, {@code certificate}, {@code timeout}, {@code plain_http}
     */
    public void tlsHandshakeFailed(String reason) {
        metrics.tlsHandshakes.labelValues(name, reason).inc();
    }
}
