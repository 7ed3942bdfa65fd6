package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

/** Counters of one upstream endpoint; get it once from {@link ProxyMetrics#endpoint}. Thread-safe. */
public final class EndpointStats {
    private final CounterDataPoint connectFailures;
    private final GaugeDataPoint active;
    private final CounterDataPoint failuresCounter;
    private final CounterDataPoint[] byStatusClass = new CounterDataPoint[ProxyMetrics.STATUS_CLASSES.length];
    private final DistributionDataPoint duration;
    private final GaugeDataPoint healthy;
    private final CounterDataPoint ejections;

    EndpointStats(ProxyMetrics metrics, String upstream, String endpoint) {
        connectFailures = metrics.upstreamConnectFailures.labelValues(upstream, endpoint);
        active = metrics.upstreamActiveRequests.labelValues(upstream, endpoint);
        failuresCounter = metrics.upstreamFailures.labelValues(upstream, endpoint);
        for (int i = 0; i < byStatusClass.length; i++) {
            byStatusClass[i] = metrics.upstreamRequests.labelValues(upstream, endpoint, ProxyMetrics.STATUS_CLASSES[i]);
        }
        duration = metrics.upstreamDuration.labelValues(upstream, endpoint);
        healthy = metrics.upstreamHealthy.labelValues(upstream, endpoint);
        healthy.set(1);
        ejections = metrics.upstreamEjections.labelValues(upstream, endpoint);
    }

    /** One exchange this endpoint answered is over: its status to the client and its whole duration. */
    public void record(int status, long durationNanos) {
        byStatusClass[ProxyMetrics.statusClassIndex(status)].inc();
        duration.observe(durationNanos > 0 ? durationNanos / 1e9 : 0);
    }

    /** Whether the endpoint takes new requests now; set when its upstream rebuilds its endpoint set. */
    public void available(boolean value) {
        healthy.set(value ? 1 : 0);
    }

    public void ejected() {
        ejections.inc();
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
