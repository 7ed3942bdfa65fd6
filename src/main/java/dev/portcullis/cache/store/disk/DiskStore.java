package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.cache.store.disk.DiskIndex.Entry;
import dev.portcullis.observe.DiskCacheStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One disk tier directory, open in this process: its lock file, its index, one writer thread and the reader
 * threads of its {@link DiskLoader}. Zones use it through {@link DiskTier} handles; a zone rebuilt by a reload (same directory) takes over the
 * open store with its index, so two stores never write one directory and a reload does not rescan it. The store
 * closes when its last handle does.
 *
 * <p>Threads: the writer thread does every change to the files (the start-up scan, writes, eviction, purges'
 * deletions, dropping damaged files), in order; readers only read. Lookups and purges may come from any thread and
 * touch only the index; purges then queue their file work behind the writes queued before them, so an object
 * stored before a purge is deleted by it even when its write finishes after the purge was called.
 */
final class DiskStore {
    static final Logger log = LoggerFactory.getLogger(DiskTier.class);
    /** Open stores by real directory. Guarded by itself (taken on reload and shutdown threads only). */
    private static final Map<Path, DiskStore> OPEN = new HashMap<>();

    /** Writes waiting: beyond these, new ones are dropped (counted) rather than memory held without bound. */
    static final int MAX_PENDING_WRITES = 256;
    static final long MAX_PENDING_BYTES = 64L << 20;
    /** Eviction goes down to this share of the size: it sorts the index once for many writes, not once each. */
    static final double LOW_WATER = 0.95;
    /** How long closing waits for the writes queued before it. */
    static final long CLOSE_WAIT_MILLIS = 5000;

    final Path dir;
    final DiskIndex index = new DiskIndex();
    private final DirectoryLock lock;
    private final ThreadPoolExecutor writer;
    private final DiskLoader loader;
    /** Open handles, oldest first (guarded by OPEN); the newest one's size bounds the store and its stats count. */
    private final List<DiskTier> handles = new ArrayList<>();
    private volatile DiskTier current;
    /** Loads find nothing until the start-up scan and the purges queued during it are done. */
    private volatile boolean ready;
    private volatile boolean closed;
    private final AtomicInteger pendingWrites = new AtomicInteger();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final Warnings writeWarnings = new Warnings(log);
    private final Warnings dropWarnings = new Warnings(log);

    private DiskStore(Path dir, String zone) throws IOException {
        this.dir = dir;
        this.lock = DirectoryLock.take(dir);
        String name = "portcullis-cache-disk-" + zone;
        writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                daemon(name, false));
        loader = new DiskLoader(dir, index, daemon(name + "-read-", true), e -> onWriter(() -> {
            if (index.remove(e)) {
                deleteIfUnindexed(e);
            }
        }));
    }

    private static java.util.concurrent.ThreadFactory daemon(String name, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, numbered ? name + n.incrementAndGet() : name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * The open store of {@code configured} (created if missing), or a new one that starts scanning it.
     *
     * @throws IOException the directory cannot be created or locked (another process uses it)
     */
    static DiskStore acquire(DiskTier t, Path configured) throws IOException {
        synchronized (OPEN) {
            Path real;
            try {
                Files.createDirectories(configured);
                real = configured.toRealPath();
            } catch (IOException e) {
                throw new IOException("cannot create the directory " + configured + ": " + e.getMessage());
            }
            DiskStore s = OPEN.get(real);
            if (s == null) {
                s = new DiskStore(real, t.zone());
                OPEN.put(real, s);
                s.handles.add(t);
                s.use(t);
                s.writer.execute(s::scan);
            } else {
                s.handles.add(t);
                s.use(t);
            }
            return s;
        }
    }

    /** A handle is closed: the newest remaining one takes over, or the store closes with the last. */
    void release(DiskTier t) {
        synchronized (OPEN) {
            if (!handles.remove(t)) {
                return;
            }
            if (handles.isEmpty()) {
                OPEN.remove(dir, this);
                close();
            } else if (current == t) {
                use(handles.get(handles.size() - 1));
            }
        }
    }

    private void use(DiskTier t) {
        DiskTier old = current;
        current = t;
        if (old != null && old.stats() != t.stats()) {
            old.stats().unbind(this);
        }
        if (ready) {
            t.stats().bind(this, index::count, index::bytes); // else when the scan is done: 0 until then
        }
        if (old != null && t.sizeBytes() < old.sizeBytes()) {
            onWriter(this::evictIfOver);
        }
    }

    private DiskCacheStats stats() {
        return current.stats();
    }

    boolean isReady() {
        return ready;
    }

    // ---- the writer thread ----

    /** First task of the writer: index what a previous run left, drop what cannot be trusted. */
    private void scan() {
        long t0 = System.nanoTime();
        String zone = current.zone();
        try {
            DiskFiles.createFanOut(dir);
            DiskFiles.Scan r = DiskFiles.scan(dir, log);
            List<DiskFiles.Found> found = new ArrayList<>(r.found());
            found.sort(Comparator.comparingLong(DiskFiles.Found::modifiedMillis));
            long base = System.nanoTime() - found.size() - 1;
            for (int i = 0; i < found.size(); i++) {
                Entry e = found.get(i).entry();
                e.lastUse = base + i; // the least recently written is evicted first
                index.put(e);
            }
            stats().damaged(r.damaged());
            log.info("cache zone {}: disk tier {}: {} object(s), {} bytes, indexed in {} ms{}", zone, dir,
                    index.count(), index.bytes(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                    r.temps() == 0 ? "" : "; " + r.temps() + " unfinished write(s) removed");
            if (r.damaged() > 0) {
                log.warn("cache zone {}: disk tier {}: {} damaged file(s) (cut short, or changed on disk) deleted; "
                        + "those objects will be fetched again", zone, dir, r.damaged());
            }
            if (r.unreadable() > 0) {
                log.warn("cache zone {}: disk tier {}: {} file(s) could not be read and are not served; check the "
                        + "files' owner and permissions", zone, dir, r.unreadable());
            }
        } catch (IOException | RuntimeException e) {
            log.error("cache zone {}: the disk tier {} cannot be read ({}); it serves nothing it had before. Check the "
                    + "directory's owner, permissions and the disk", zone, dir, e.toString());
        }
        evictIfOver();
        // after the purges queued during the scan: none of what they matched is ever served
        onWriter(() -> {
            if (!closed) {
                ready = true;
                current.stats().bind(this, index::count, index::bytes);
            }
        });
    }

    private final class WriteTask implements Runnable {
        final StoredResponse response;
        final long length;

        WriteTask(StoredResponse response, long length) {
            this.response = response;
            this.length = length;
        }

        @Override
        public void run() {
            try {
                write(response);
            } finally {
                drop();
            }
        }

        void drop() {
            response.release();
            pendingWrites.decrementAndGet();
            pendingBytes.addAndGet(-length);
        }
    }

    private void write(StoredResponse s) {
        try {
            Entry e = DiskFiles.write(dir, s, System.nanoTime());
            index.put(e);
            stats().written();
            evictIfOver();
        } catch (IOException | RuntimeException x) {
            stats().writeFailed();
            writeWarnings.warn("cache zone {}: writing {} to the disk tier {} failed ({}); it is kept in memory only. "
                    + "Check the free space and the directory's permissions", current.zone(), s.key().primary(),
                    dir, x.toString());
            // an older version of the object must not come back from disk in its place
            Entry old = index.get(s.key());
            if (old != null && index.remove(old)) {
                deleteIfUnindexed(old);
            }
        }
    }

    /** Deletes least recently used files until the total is at {@link #LOW_WATER} of the size. */
    private void evictIfOver() {
        long limit = current.sizeBytes();
        if (index.bytes() <= limit) {
            return;
        }
        long target = (long) (limit * LOW_WATER);
        long n = 0;
        for (Entry e : index.leastRecentlyUsedFirst()) {
            if (index.bytes() <= target) {
                break;
            }
            if (index.remove(e)) {
                deleteIfUnindexed(e);
                n++;
            }
        }
        stats().evicted(n);
    }

    /** Deletes the file of an entry left the index, unless a newer object of its key took the name since. */
    private void deleteIfUnindexed(Entry e) {
        if (index.get(e.key) != null) {
            return; // entries are added on this thread only: no newer one can appear before the delete
        }
        try {
            DiskFiles.delete(dir, e.name());
        } catch (IOException x) {
            writeWarnings.warn("cache zone {}: cannot delete {} from the disk tier ({}); it is not served, and "
                    + "deleted at the next start", current.zone(), DiskFiles.path(dir, e.name()), x.toString());
        }
    }

    private final class PurgeTask implements Runnable {
        final Supplier<List<Entry>> finder;
        final List<Entry> removed;

        PurgeTask(Supplier<List<Entry>> finder, List<Entry> removed) {
            this.finder = finder;
            this.removed = removed;
        }

        @Override
        public void run() {
            List<Entry> gone = new ArrayList<>(removed);
            // objects stored before the purge whose writes finished after it
            for (Entry e : finder.get()) {
                if (index.remove(e)) {
                    gone.add(e);
                }
            }
            for (Entry e : gone) {
                deleteIfUnindexed(e);
            }
        }
    }

    void onWriter(Runnable task) {
        try {
            writer.execute(task);
        } catch (RejectedExecutionException e) {
            // closing: nothing more to do on disk
        }
    }

    // ---- called from any thread ----

    CompletableFuture<StoredResponse> load(DiskTier t, String primaryKey, VariantKeys variants) {
        if (!ready || closed) {
            return CompletableFuture.completedFuture(null);
        }
        return loader.load(t, primaryKey, variants);
    }

    /** Queues a write of {@code s}; never blocks: when too many are waiting it is dropped (and counted). */
    void store(StoredResponse s) {
        if (closed) {
            return;
        }
        long len = s.bodyLength();
        DiskTier t = current;
        if (len > t.sizeBytes()) {
            return; // larger than the whole tier
        }
        int n = pendingWrites.incrementAndGet();
        long b = pendingBytes.addAndGet(len);
        if (n > MAX_PENDING_WRITES || n > 1 && b > MAX_PENDING_BYTES) {
            pendingWrites.decrementAndGet();
            pendingBytes.addAndGet(-len);
            t.stats().writeDropped();
            dropWarnings.warn("cache zone {}: the disk tier {} is behind ({} writes waiting): objects are not "
                    + "written to disk (the disk is slower than the objects come)", t.zone(), dir, n - 1);
            return;
        }
        WriteTask task = new WriteTask(s.retain(), len);
        try {
            writer.execute(task);
        } catch (RejectedExecutionException e) {
            task.drop(); // closed meanwhile
        }
    }

    /** Removes what {@code finder} finds from the index now, and its files in order behind the queued writes. */
    int purge(Supplier<List<Entry>> finder) {
        List<Entry> removed = new ArrayList<>();
        for (Entry e : finder.get()) {
            if (index.remove(e)) {
                removed.add(e);
            }
        }
        onWriter(new PurgeTask(finder, removed));
        return removed.size();
    }

    /** Completes when everything queued on the writer before it is done (tests). */
    CompletableFuture<Void> flush() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            writer.execute(() -> f.complete(null));
        } catch (RejectedExecutionException e) {
            f.complete(null);
        }
        return f;
    }

    /** The last handle is gone (under OPEN): finish the queued writes within a bound, then let go of the dir. */
    private void close() {
        closed = true;
        ready = false;
        writer.shutdown();
        if (!await(writer, CLOSE_WAIT_MILLIS)) {
            int dropped = 0;
            for (Runnable r : writer.shutdownNow()) { // interrupts the write in progress: its temp file is left
                if (r instanceof WriteTask w) {
                    w.drop();
                    dropped++;
                } else if (r instanceof PurgeTask p) {
                    p.run(); // a purge must not be undone by the next start
                }
            }
            log.warn("cache zone {}: the disk tier {} was closed with {} write(s) not done within {} s; those objects "
                    + "are not on disk", current.zone(), dir, dropped, CLOSE_WAIT_MILLIS / 1000);
            await(writer, 1000);
        }
        loader.close(1000);
        current.stats().unbind(this);
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("cache zone {}: releasing the lock of the disk tier {} failed: {}", current.zone(), dir,
                    e.toString());
        }
    }

    private static boolean await(ThreadPoolExecutor e, long millis) {
        try {
            return e.awaitTermination(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
