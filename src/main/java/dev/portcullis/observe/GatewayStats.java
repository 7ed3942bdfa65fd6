package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API gateway counters of one route: requests its checks refused, by reason
 * ({@code portcullis_gateway_rejected_total}), and each authenticated consumer's requests and latency
 * ({@code portcullis_consumer_requests_total}, {@code portcullis_consumer_request_duration_seconds}). A route
 * names at most {@link #MAX_CONSUMERS} consumers in its series; later ones are counted as {@code other} (users of a
 * large htpasswd file would otherwise grow the series without bound).
 */
public final class GatewayStats {
    static final int MAX_CONSUMERS = 1000;
    static final String OTHER = "other";

    private final ProxyMetrics metrics;
    private final String listener;
    private final String route;
    private final Map<String, CounterDataPoint> rejected = new ConcurrentHashMap<>();
    private final Map<String, ConsumerSeries> consumers = new ConcurrentHashMap<>();
    private final Map<String, CounterDataPoint> redisErrors = new ConcurrentHashMap<>();

    private record ConsumerSeries(CounterDataPoint[] byStatusClass, DistributionDataPoint duration) {}

    GatewayStats(ProxyMetrics metrics, String listener, String route) {
        this.metrics = metrics;
        this.listener = listener;
        this.route = route;
    }

    /** @param reason a fixed token: access, cors, auth, group, rate_limit */
    public void rejected(String reason) {
        rejected.computeIfAbsent(reason, r -> metrics.gatewayRejected.labelValues(listener, route, r)).inc();
    }

    /** {@code store: redis} could not answer; the request was let through ({@code allow}) or refused. */
    public void redisError(boolean allowed) {
        String outcome = allowed ? "allowed" : "denied";
        redisErrors.computeIfAbsent(outcome, o -> metrics.gatewayRedisErrors.labelValues(listener, route, o)).inc();
    }

    /** One finished request of an authenticated consumer. */
    public void consumerRequest(String consumer, int status, long durationNanos) {
        ConsumerSeries s = consumers.get(consumer);
        if (s == null) {
            String name = consumers.size() >= MAX_CONSUMERS ? OTHER : consumer;
            s = consumers.computeIfAbsent(name, this::series);
        }
        s.byStatusClass()[ProxyMetrics.statusClassIndex(status)].inc();
        s.duration().observe(durationNanos > 0 ? durationNanos / 1e9 : 0);
    }

    private ConsumerSeries series(String consumer) {
        CounterDataPoint[] byClass = new CounterDataPoint[ProxyMetrics.STATUS_CLASSES.length];
        for (int i = 0; i < byClass.length; i++) {
            byClass[i] = metrics.consumerRequests.labelValues(listener, route, consumer, ProxyMetrics.STATUS_CLASSES[i]);
        }
        return new ConsumerSeries(byClass, metrics.consumerDuration.labelValues(listener, route, consumer));
    }
}
