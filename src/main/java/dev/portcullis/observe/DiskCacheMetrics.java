package dev.portcullis.observe;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The {@code portcullis_cache_disk_*} metrics (label {@code zone}): registered once per process. */
final class DiskCacheMetrics {
    final Counter hits;
    final Counter writes;
    final Counter writeErrors;
    final Counter writesDropped;
    final Counter evictions;
    final Counter damaged;
    private final ConcurrentMap<String, DiskCacheStats> zones = new ConcurrentHashMap<>();

    DiskCacheMetrics(PrometheusRegistry registry) {
        hits = counter(registry, "portcullis_cache_disk_hits_total",
                "Memory misses answered from the disk tier (loaded and verified)");
        writes = counter(registry, "portcullis_cache_disk_writes_total", "Objects written to the disk tier");
        writeErrors = counter(registry, "portcullis_cache_disk_write_errors_total",
                "Writes to the disk tier that failed (full disk, IO error); the object stays in memory only");
        writesDropped = counter(registry, "portcullis_cache_disk_writes_dropped_total",
                "Objects not written to the disk tier because its write queue was full");
        evictions = counter(registry, "portcullis_cache_disk_evictions_total",
                "Files the disk tier deleted to stay within its size (least recently used first)");
        damaged = counter(registry, "portcullis_cache_disk_damaged_total",
                "Damaged files found on disk (truncated, checksum mismatch, bad header) and deleted");
        GaugeWithCallback.builder()
                .name("portcullis_cache_disk_objects")
                .help("Objects in the cache zone's disk tier")
                .labelNames("zone")
                .callback(cb -> zones.forEach((zone, stats) -> cb.call(stats.objects(), zone)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("portcullis_cache_disk_bytes")
                .help("Bytes of the files in the cache zone's disk tier (what its size bounds)")
                .unit(Unit.BYTES)
                .labelNames("zone")
                .callback(cb -> zones.forEach((zone, stats) -> cb.call(stats.bytes(), zone)))
                .register(registry);
    }

    DiskCacheStats zone(String zone) {
        return zones.computeIfAbsent(zone, z -> new DiskCacheStats(this, z));
    }

    private static Counter counter(PrometheusRegistry registry, String name, String help) {
        return Counter.builder().name(name).help(help).labelNames("zone").withoutExemplars().register(registry);
    }
}
