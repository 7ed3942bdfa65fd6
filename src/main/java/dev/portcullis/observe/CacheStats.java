package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.function.LongSupplier;

/**
 * Metrics of one cache zone ({@code portcullis_cache_*}, label {@code zone}); get it once from
 * {@link ProxyMetrics#cache}. It outlives reloads: the zone that serves the name now binds its sizes.
 *
 * <p>Who counts what: the store counts evictions and purges and reports its sizes; the proxy integration counts
 * hits, misses, stale responses served and collapsed followers (only it knows what a lookup became). Thread-safe,
 * no allocation.
 */
public final class CacheStats {
    private final CounterDataPoint hits;
    private final CounterDataPoint misses;
    private final CounterDataPoint stale;
    private final CounterDataPoint collapsed;
    private final CounterDataPoint evictions;
    private final CounterDataPoint purged;
    /** The sizes of the zone serving this name now, or null. */
    private final BoundSizes sizes = new BoundSizes();


    CacheStats(ProxyMetrics metrics, String zone) {
        hits = metrics.cacheHits.labelValues(zone);
        misses = metrics.cacheMisses.labelValues(zone);
        stale = metrics.cacheStale.labelValues(zone);
        collapsed = metrics.cacheCollapsed.labelValues(zone);
        evictions = metrics.cacheEvictions.labelValues(zone);
        purged = metrics.cachePurged.labelValues(zone);
    }

    /** A response served from the cache, fresh or after a successful revalidation. */
    public void hit() {
        hits.inc();
    }

    /** A request the cache could not answer: it went upstream (as leader, or alone). */
    public void miss() {
        misses.inc();
    }

    /** A stale response served (stale-while-revalidate, stale-if-error). */
    public void staleServed() {
        stale.inc();
    }

    /** A request served by following another's upstream fetch instead of making its own. */
    public void collapsed() {
        collapsed.inc();
    }

    /** The memory tier dropped an object for room (counted by the store). */
    public void evicted() {
        evictions.inc();
    }

    /** Objects removed by purges (counted by the store). */
    public void purged(long n) {
        if (n > 0) {
            purged.inc(n);
        }
    }

    /**
     * The zone now serving this name reports its sizes through these (read at scrape time only); a reload's new
     * zone binds before the old one is closed.
     */
    public void bind(Object owner, LongSupplier objects, LongSupplier bytes) {
        sizes.bind(owner, objects, bytes);
    }

    /** {@code owner} is gone: sizes read 0, unless another zone bound since. */
    public void unbind(Object owner) {
        sizes.unbind(owner);
    }

    long objects() {
        return sizes.objects();
    }

    long bytes() {
        return sizes.bytes();
    }

    /** For tests and the admin API. */
    public long count(String what) {
        return (long) switch (what) {
            case "hits" -> hits.get();
            case "misses" -> misses.get();
            case "stale" -> stale.get();
            case "collapsed" -> collapsed.get();
            case "evictions" -> evictions.get();
            case "purged" -> purged.get();
            default -> throw new IllegalArgumentException(what);
        };
    }
}
