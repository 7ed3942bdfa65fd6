package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.function.LongSupplier;

/**
 * Metrics of one cache zone's disk tier ({@code portcullis_cache_disk_*}, label {@code zone}); get it once from
 * {@link ProxyMetrics#diskCache}. It outlives reloads: the tier serving the zone's name binds its sizes.
 * Thread-safe, no allocation.
 */
public final class DiskCacheStats {
    private final CounterDataPoint hits;
    private final CounterDataPoint writes;
    private final CounterDataPoint writeErrors;
    private final CounterDataPoint writesDropped;
    private final CounterDataPoint evictions;
    private final CounterDataPoint damaged;
    private final BoundSizes sizes = new BoundSizes();


    DiskCacheStats(DiskCacheMetrics m, String zone) {
        hits = m.hits.labelValues(zone);
        writes = m.writes.labelValues(zone);
        writeErrors = m.writeErrors.labelValues(zone);
        writesDropped = m.writesDropped.labelValues(zone);
        evictions = m.evictions.labelValues(zone);
        damaged = m.damaged.labelValues(zone);
    }

    /** An object loaded from disk for a memory miss. */
    public void hit() {
        hits.inc();
    }

    public void written() {
        writes.inc();
    }

    public void writeFailed() {
        writeErrors.inc();
    }

    public void writeDropped() {
        writesDropped.inc();
    }

    public void evicted(long n) {
        if (n > 0) {
            evictions.inc(n);
        }
    }

    public void damaged(long n) {
        if (n > 0) {
            damaged.inc(n);
        }
    }

    /** The tier now serving this zone reports its sizes through these (read at scrape time only). */
    public void bind(Object owner, LongSupplier objects, LongSupplier bytes) {
        sizes.bind(owner, objects, bytes);
    }

    /** {@code owner} is gone: sizes read 0, unless another tier bound since. */
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
            case "writes" -> writes.get();
            case "write_errors" -> writeErrors.get();
            case "writes_dropped" -> writesDropped.get();
            case "evictions" -> evictions.get();
            case "damaged" -> damaged.get();
            case "objects" -> objects();
            case "bytes" -> bytes();
            default -> throw new IllegalArgumentException(what);
        };
    }
}
