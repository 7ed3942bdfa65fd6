package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;

/** Request counters and latency of one (listener, route, upstream); get it once from {@link ProxyMetrics#route}. */
public final class RouteStats {
    private final CounterDataPoint[] byStatusClass = new CounterDataPoint[ProxyMetrics.STATUS_CLASSES.length];
    private final DistributionDataPoint duration;

    RouteStats(ProxyMetrics metrics, String listener, String route, String upstream) {
        for (int i = 0; i < byStatusClass.length; i++) {
            byStatusClass[i] = metrics.requests.labelValues(listener, route, upstream, ProxyMetrics.STATUS_CLASSES[i]);
        }
        duration = metrics.requestDuration.labelValues(listener, route, upstream);
    }

    /**
     * Counts one finished request. No lookup, no allocation.
     *
     * @param status        the status sent to the client
     * @param durationNanos from the first byte of the request to the last byte of the response
     */
    public void record(int status, long durationNanos) {
        byStatusClass[ProxyMetrics.statusClassIndex(status)].inc();
        duration.observe(durationNanos > 0 ? durationNanos / 1e9 : 0);
    }
}
