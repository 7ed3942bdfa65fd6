package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Metrics of the shared Redis and of what uses it: {@code portcullis_redis_*} (the client), {@code
 * portcullis_cache_shared_*} (each zone's shared tier) and {@code portcullis_cache_purge_broadcasts_total}. One per
 * process ({@link ProxyMetrics#redis()}); it outlives reloads and the clients they replace.
 */
public final class RedisStats {
    private final Counter errors;
    private final Counter sharedLookups;
    private final Counter sharedStores;
    private final Counter broadcasts;
    private final ConcurrentMap<String, SharedTier> tiers = new ConcurrentHashMap<>();
    /** Whether the client now in use is connected; null while there is none. */
    private final AtomicReference<Connection> connection = new AtomicReference<>();

    private record Connection(Object owner, BooleanSupplier connected) {}

    RedisStats(PrometheusRegistry registry) {
        errors = Counter.builder()
                .name("portcullis_redis_errors_total")
                .help("Redis commands that failed, timed out or were refused while disconnected, by what they were "
                        + "for (connect, load, store, purge, publish, subscribe)")
                .labelNames("op")
                .withoutExemplars()
                .register(registry);
        GaugeWithCallback.builder()
                .name("portcullis_redis_connected")
                .help("1 while the client of the redis section is connected, 0 while it is not (absent without redis)")
                .callback(cb -> {
                    Connection c = connection.get();
                    if (c != null) {
                        cb.call(c.connected().getAsBoolean() ? 1 : 0);
                    }
                })
                .register(registry);
        sharedLookups = Counter.builder()
                .name("portcullis_cache_shared_lookups_total")
                .help("Lookups in a zone's shared (Redis) tier after a memory miss, by result (hit, miss, error, "
                        + "corrupt)")
                .labelNames("zone", "result")
                .withoutExemplars()
                .register(registry);
        sharedStores = Counter.builder()
                .name("portcullis_cache_shared_stores_total")
                .help("Objects offered to a zone's shared (Redis) tier, by result (stored, too_large, backlog, error)")
                .labelNames("zone", "result")
                .withoutExemplars()
                .register(registry);
        broadcasts = Counter.builder()
                .name("portcullis_cache_purge_broadcasts_total")
                .help("Purge messages published to the other instances (sent), applied from them (received), or "
                        + "that could not be sent or read (failed)")
                .labelNames("direction")
                .withoutExemplars()
                .register(registry);
    }

    /** A Redis command failed (or was refused while disconnected). */
    public void error(String op) {
        errors.labelValues(op).inc();
    }

    /** The client now in use reports its connection through this (read at scrape time). */
    public void bind(Object owner, BooleanSupplier connected) {
        connection.set(new Connection(owner, connected));
    }

    /** {@code owner} is closed: the gauge disappears unless another client bound since. */
    public void unbind(Object owner) {
        Connection c = connection.get();
        if (c != null && c.owner() == owner) {
            connection.compareAndSet(c, null);
        }
    }

    public void broadcast(String direction) {
        broadcasts.labelValues(direction).inc();
    }

    /** The counters of one zone's shared tier; the same name gives the same instance. */
    public SharedTier tier(String zone) {
        return tiers.computeIfAbsent(zone, SharedTier::new);
    }

    /** For tests and the admin API. */
    public long count(String metric, String... labels) {
        return (long) switch (metric) {
            case "errors" -> errors.labelValues(labels).get();
            case "broadcasts" -> broadcasts.labelValues(labels).get();
            default -> throw new IllegalArgumentException(metric);
        };
    }

    /** One zone's shared-tier counters, with their data points resolved once. */
    public final class SharedTier {
        private final CounterDataPoint hit;
        private final CounterDataPoint miss;
        private final CounterDataPoint lookupError;
        private final CounterDataPoint corrupt;
        private final CounterDataPoint stored;
        private final CounterDataPoint tooLarge;
        private final CounterDataPoint backlog;
        private final CounterDataPoint storeError;

        private SharedTier(String zone) {
            hit = sharedLookups.labelValues(zone, "hit");
            miss = sharedLookups.labelValues(zone, "miss");
            lookupError = sharedLookups.labelValues(zone, "error");
            corrupt = sharedLookups.labelValues(zone, "corrupt");
            stored = sharedStores.labelValues(zone, "stored");
            tooLarge = sharedStores.labelValues(zone, "too_large");
            backlog = sharedStores.labelValues(zone, "backlog");
            storeError = sharedStores.labelValues(zone, "error");
        }

        public void hit() {
            hit.inc();
        }

        public void miss() {
            miss.inc();
        }

        public void lookupError() {
            lookupError.inc();
        }

        public void corrupt() {
            corrupt.inc();
        }

        public void stored() {
            stored.inc();
        }

        public void tooLarge() {
            tooLarge.inc();
        }

        public void backlog() {
            backlog.inc();
        }

        public void storeError() {
            storeError.inc();
        }

        /** For tests: hit, miss, error, corrupt, stored, too_large, backlog, store_error. */
        public long count(String what) {
            return (long) switch (what) {
                case "hit" -> hit.get();
                case "miss" -> miss.get();
                case "error" -> lookupError.get();
                case "corrupt" -> corrupt.get();
                case "stored" -> stored.get();
                case "too_large" -> tooLarge.get();
                case "backlog" -> backlog.get();
                case "store_error" -> storeError.get();
                default -> throw new IllegalArgumentException(what);
            };
        }
    }
}
