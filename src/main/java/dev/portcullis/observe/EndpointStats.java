package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

/** Counters of one upstream endpoint; get it once from {@link ProxyMetrics#endpoint}. Thread-safe. */
public final class EndpointStats {
    private final CounterDataPoint connectFailures;
    private final GaugeDataPoint active;
    private final CounterDataPoint failuresCounter;

    EndpointStats(ProxyMetrics metrics, String upstream, String endpoint) {
        connectFailures = metrics.upstreamConnectFailures.labelValues(upstream, endpoint);
        active = metrics.upstreamActiveRequests.labelValues(upstream, endpoint);
        failuresCounter = metrics.upstreamFailures.labelValues(upstream, endpoint);
    }

    /** A connection to the endpoint could not be opened (refused, unreachable, connect timeout). */
    public void connectFailure() {
        connectFailures.inc();
    }

    /** A request was sent to the endpoint; pair it with {@link #requestFinished}. */
    public void requestStarted() {
        active.inc();
    }

    /** A request that {@link #requestStarted} counted is done, whatever its outcome. */
    public void requestFinished() {
        active.dec();
    }

    /** A request to the endpoint failed: connection reset, broken reply or timeout. */
    public void failure() {
        failuresCounter.inc();
    }

    /** Requests in flight now, for the admin API. */
    public long activeRequests() {
        return (long) active.get();
    }

    /** Failures since the process started, for the admin API. */
    public long failures() {
        return failuresCounter.getLongValue();
    }
}
