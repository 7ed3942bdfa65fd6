package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A forward proxy listener's own counters ({@code portcullis_forward_*}), HTTP and SOCKS5 alike; an HTTP forward
 * listener's requests are counted as a route named {@code forward} in the usual request metrics, its cache in
 * {@code portcullis_cache_*}.
 */
public final class ForwardStats {
    private final ProxyMetrics metrics;
    private final String listener;
    private final Map<String, CounterDataPoint> denied = new ConcurrentHashMap<>();
    private final CounterDataPoint tunnels;
    private final CounterDataPoint bytesUp;
    private final CounterDataPoint bytesDown;
    private final CounterDataPoint interceptsOk;
    private final CounterDataPoint interceptsFailed;

    ForwardStats(ProxyMetrics metrics, String listener) {
        this.metrics = metrics;
        this.listener = listener;
        this.tunnels = metrics.forwardTunnels.labelValues(listener);
        this.bytesUp = metrics.forwardTunnelBytes.labelValues(listener, "upstream");
        this.bytesDown = metrics.forwardTunnelBytes.labelValues(listener, "client");
        this.interceptsOk = metrics.forwardIntercepts.labelValues(listener, "ok");
        this.interceptsFailed = metrics.forwardIntercepts.labelValues(listener, "handshake_failed");
    }

    /** A CONNECT tunnel whose TLS this proxy ended ({@code intercept_tls}): the client's handshake succeeded or not. */
    public void intercepted(boolean ok) {
        (ok ? interceptsOk : interceptsFailed).inc();
    }

    /**
     * A request or tunnel refused by {@code rule} (a fixed token: client, port, domain, private, auth, dns; and
     * command for a SOCKS5 command other than CONNECT; host for a request inside an intercepted
     * tunnel that names another host).
     */
    public void denied(String rule) {
        denied.computeIfAbsent(rule, r -> metrics.forwardDenied.labelValues(listener, r)).inc();
    }

    public void tunnelOpened() {
        tunnels.inc();
    }

    public void tunnelClosed(long toUpstream, long toClient) {
        bytesUp.inc(toUpstream);
        bytesDown.inc(toClient);
    }
}
