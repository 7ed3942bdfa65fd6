package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.LowerTier;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.DiskCacheStats;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A zone's {@code disk} tier: objects kept as files under one directory, surviving restarts, bounded by the total
 * size of the files (least recently used evicted first). A file is written whole to a temp file, forced to the
 * device and renamed over the old one, and carries checksums: a crash at any point leaves the old object, the new
 * one or none, and a damaged file is detected, deleted and reported as a miss, never served.
 *
 * <p>This is the zone's handle on the {@link DiskStore} of its directory: a zone rebuilt by a reload opens a new
 * handle on the same store (index and files kept) before the old zone closes its own. Never blocks the caller:
 * loads run on the store's reader threads, writes on its writer thread.
 */
public final class DiskTier implements LowerTier {
    private final String zone;
    private final long sizeBytes;
    private final long maxObjectSize;
    private final ByteBufAllocator alloc;
    private final DiskCacheStats stats;
    private final DiskStore store;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DiskTier(String zone, CacheZoneConfig.Disk disk, long maxObjectSize, ByteBufAllocator alloc,
                     DiskCacheStats stats) throws IOException {
        this.zone = zone;
        this.sizeBytes = disk.sizeBytes();
        this.maxObjectSize = maxObjectSize;
        this.alloc = alloc;
        this.stats = stats;
        this.store = DiskStore.acquire(this, disk.path());
    }

    /**
     * Opens the zone's disk tier: the directory is created if missing; its objects are indexed in the background
     * (lookups miss until that is done).
     *
     * @throws IOException the directory cannot be created, or another process uses it (the message says which)
     */
    public static DiskTier open(String zone, CacheZoneConfig.Disk disk, long maxObjectSize, DiskCacheStats stats)
            throws IOException {
        return open(zone, disk, maxObjectSize, PooledByteBufAllocator.DEFAULT, stats);
    }

    /** @param alloc where loaded bodies are built (pooled direct memory) */
    public static DiskTier open(String zone, CacheZoneConfig.Disk disk, long maxObjectSize, ByteBufAllocator alloc,
                                DiskCacheStats stats) throws IOException {
        return new DiskTier(zone, disk, maxObjectSize, alloc, stats);
    }

    @Override
    public String kind() {
        return "disk";
    }

    @Override
    public CompletableFuture<StoredResponse> load(String primaryKey, VariantKeys variants) {
        if (closed.get()) {
            return CompletableFuture.completedFuture(null);
        }
        return store.load(this, primaryKey, variants);
    }

    @Override
    public void store(StoredResponse response) {
        if (!closed.get()) {
            store.store(response);
        }
    }

    @Override
    public int purgeKey(String primaryKey) {
        return store.purge(() -> store.index.byPrimaryKey(primaryKey));
    }

    @Override
    public int purgePrefix(String prefix) {
        return store.purge(() -> store.index.byPrefix(prefix));
    }

    @Override
    public int purgeTag(String tag) {
        return store.purge(() -> store.index.byTag(tag));
    }

    /** Lets go of the store; the last handle of a directory waits (a few seconds at most) for its queued writes. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            store.release(this);
        }
    }

    /** The directory (resolved: symbolic links followed). */
    public Path directory() {
        return store.dir;
    }

    /** Objects indexed now. */
    public long objects() {
        return store.index.count();
    }

    /** Bytes of the indexed files. */
    public long bytes() {
        return store.index.bytes();
    }

    /** Whether the start-up scan is done (before it, lookups miss). */
    public boolean isReady() {
        return store.isReady();
    }

    /** Completes once every write, eviction and purge queued so far is done (tests, orderly hand-over). */
    public CompletableFuture<Void> flush() {
        return store.flush();
    }

    /** Runs {@code task} on the writer thread, behind what is queued (tests: hold the writer to fill the queue). */
    void onWriterThread(Runnable task) {
        store.onWriter(task);
    }

    String zone() {
        return zone;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    long maxObjectSize() {
        return maxObjectSize;
    }

    ByteBufAllocator allocator() {
        return alloc;
    }

    DiskCacheStats stats() {
        return stats;
    }

    DiskIndex index() {
        return store.index;
    }
}
