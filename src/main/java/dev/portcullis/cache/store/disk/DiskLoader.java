package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.CacheKey;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.cache.store.disk.DiskIndex.Entry;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The read side of a {@link DiskStore}: looks a request up in the index on the caller's thread (a miss costs no IO
 * and no thread hop) and reads a found file on one of a few reader threads, verified whole before it is returned.
 */
final class DiskLoader {
    static final int READERS = 2;
    static final int MAX_PENDING_READS = 1024;

    private final Path dir;
    private final DiskIndex index;
    private final ThreadPoolExecutor readers;
    /** Drops a damaged file's entry (on the writer thread, which alone deletes files). */
    private final Consumer<Entry> dropDamaged;
    private final Warnings warnings = new Warnings(DiskStore.log);

    DiskLoader(Path dir, DiskIndex index, ThreadFactory threads, Consumer<Entry> dropDamaged) {
        this.dir = dir;
        this.index = index;
        this.dropDamaged = dropDamaged;
        this.readers = new ThreadPoolExecutor(READERS, READERS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(MAX_PENDING_READS), threads);
    }

    /** Never completes exceptionally: an object that is missing, damaged or unreadable is null (a miss). */
    CompletableFuture<StoredResponse> load(DiskTier t, String primaryKey, VariantKeys variants) {
        String vary = index.vary(primaryKey);
        if (vary == null) {
            return CompletableFuture.completedFuture(null);
        }
        Entry e = index.get(new CacheKey(primaryKey, variants.variantKey(vary)));
        if (e == null || e.bodyLength > t.maxObjectSize()) {
            return CompletableFuture.completedFuture(null);
        }
        e.lastUse = System.nanoTime();
        CompletableFuture<StoredResponse> f = new CompletableFuture<>();
        try {
            readers.execute(() -> f.complete(read(t, e)));
        } catch (RejectedExecutionException x) {
            if (!readers.isShutdown()) {
                warnings.warn("cache zone {}: the disk tier {} has {} loads waiting; more are answered as misses "
                        + "(the disk is slower than the requests)", t.zone(), dir, MAX_PENDING_READS);
            }
            return CompletableFuture.completedFuture(null);
        }
        return f;
    }

    /** On a reader thread: the verified object, or null. Never throws. */
    private StoredResponse read(DiskTier t, Entry e) {
        try {
            StoredResponse r = DiskFiles.read(dir, e, t.allocator(), t.maxObjectSize());
            if (r != null) {
                t.stats().hit();
            }
            return r;
        } catch (NoSuchFileException x) {
            return null; // evicted or purged meanwhile
        } catch (DamagedFileException x) {
            t.stats().damaged(1);
            warnings.warn("cache zone {}: the disk tier's file {} for {} is damaged ({}): deleted; the object will "
                    + "be fetched again", t.zone(), DiskFiles.path(dir, e.name()), e.key.primary(), x.getMessage());
            dropDamaged.accept(e);
            return null;
        } catch (IOException | RuntimeException x) {
            warnings.warn("cache zone {}: the disk tier cannot read {} ({}); answered as a miss", t.zone(),
                    DiskFiles.path(dir, e.name()), x.toString());
            return null;
        }
    }

    /** Stops taking loads; those under way finish (the zone releases what comes back after it closed). */
    void close(long waitMillis) {
        readers.shutdown();
        try {
            readers.awaitTermination(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
        }
    }
}
