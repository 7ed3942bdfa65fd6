package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;

/**
 * Outcomes of the copies one route sends to its {@code mirror} upstream ({@code portcullis_mirror_requests_total});
 * get it once from {@link ProxyMetrics#mirror}. Thread-safe, no allocation.
 */
public final class MirrorStats {
    /** What became of one mirrored request. */
    public enum Result {
        /** The mirror upstream answered (any status; the answer is dropped). */
        OK("ok"),
        /** No endpoint, connect failure, reset, or an unreadable answer. */
        FAILED("failed"),
        /** No complete answer within the route's timeout (15 s without one). */
        TIMEOUT("timeout"),
        /** Given up by the proxy: the mirror took the body too slowly, or the client's request broke off. */
        ABANDONED("abandoned"),
        /** Not sent: the mirror upstream's circuit breaker (max_requests) or the process's copy limit was reached. */
        SKIPPED("skipped");

        final String label;

        Result(String label) {
            this.label = label;
        }
    }

    private final CounterDataPoint[] byResult = new CounterDataPoint[Result.values().length];

    MirrorStats(ProxyMetrics metrics, String listener, String route, String upstream) {
        for (Result r : Result.values()) {
            byResult[r.ordinal()] = metrics.mirrorRequests.labelValues(listener, route, upstream, r.label);
        }
    }

    public void record(Result result) {
        byResult[result.ordinal()].inc();
    }

    /** For tests and the admin API. */
    public long count(Result result) {
        return (long) byResult[result.ordinal()].get();
    }
}
