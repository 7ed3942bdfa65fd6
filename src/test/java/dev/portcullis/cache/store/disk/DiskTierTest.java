package dev.portcullis.cache.store.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.cache.store.Body;
import dev.portcullis.cache.store.CacheKey;
import dev.portcullis.cache.store.HeaderList;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.DiskCacheStats;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The disk tier on real files: format, crash leftovers, damage, eviction, purges, restarts, concurrency. */
@Timeout(60)
class DiskTierTest {
    private static final long MAX_OBJECT = 1 << 20;

    @TempDir
    Path dir;

    /** No thread caches: a freed buffer goes straight back to its arena, so {@link #live} is exact. */
    private final PooledByteBufAllocator alloc = new PooledByteBufAllocator(true, 0, 1, 8192, 9, 0, 0, false);
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final DiskCacheStats stats = metrics.diskCache("z");
    private final List<DiskTier> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        open.forEach(DiskTier::close);
        awaitTrue(() -> live() == 0, "every loaded body released (live " + live() + ")");
    }

    private DiskTier open(long size) throws Exception {
        return open(size, MAX_OBJECT);
    }

    private DiskTier open(long size, long maxObject) throws Exception {
        DiskTier t = DiskTier.open("z", new CacheZoneConfig.Disk(dir, size), maxObject, alloc, stats);
        open.add(t);
        awaitTrue(t::isReady, "the start-up scan");
        return t;
    }

    private void restart(DiskTier t) {
        t.close();
        open.remove(t);
    }

    @Test
    void anObjectRoundTripsWithEveryFieldAndByte() throws Exception {
        DiskTier t = open(10 << 20);
        byte[] body = pattern("big", 200_000); // several chunks each way
        ResponseMeta meta = new ResponseMeta("https://h/a?x=1", "", 203, "Non-Authoritative",
                HeaderList.of("Content-Type", "text/plain; charset=utf-8", "Set-Cookie", "a=1", "Set-Cookie", "b=2",
                        "X-Latin", "caf\u00e9", "Surrogate-Key", "t1 t2"),
                1_700_000_000_123L, 1_700_000_000_456L, List.of("t1", "t2"), "");
        storeAndRelease(t, meta, body);
        t.flush().get(10, TimeUnit.SECONDS);
        assertThat(t.objects()).isEqualTo(1);
        long expectedSize = Files.size(file("https://h/a?x=1", ""));
        assertThat(t.bytes()).isEqualTo(expectedSize);

        StoredResponse loaded = load(t, "https://h/a?x=1");
        try {
            assertThat(loaded.meta()).isEqualTo(meta);
            assertThat(bytes(loaded)).isEqualTo(body);
            assertThat(loaded.body().isSealed()).isTrue();
        } finally {
            loaded.release();
        }
        assertThat(stats.count("hits")).isEqualTo(1);
        assertThat(load(t, "https://h/other")).isNull();
    }

    @Test
    void aRestartRebuildsTheIndexFromTheFiles() throws Exception {
        DiskTier t = open(10 << 20);
        for (int i = 0; i < 20; i++) {
            storeAndRelease(t, meta("/r/" + i, "", "Cache-Tag", "even" + (i % 2)), pattern("r" + i, 1000 + i));
        }
        // and a varying resource: two variants under Vary: Accept-Language
        storeAndRelease(t, meta("/v", "lang=en", "Vary", "Accept-Language"), pattern("en", 10));
        storeAndRelease(t, meta("/v", "lang=fr", "Vary", "Accept-Language"), pattern("fr", 11));
        t.flush().get(10, TimeUnit.SECONDS);
        long bytes = t.bytes();
        restart(t);

        DiskTier again = open(10 << 20);
        assertThat(again.objects()).isEqualTo(22);
        assertThat(again.bytes()).isEqualTo(bytes);
        for (int i = 0; i < 20; i++) {
            StoredResponse r = load(again, "/r/" + i);
            assertThat(bytes(r)).isEqualTo(pattern("r" + i, 1000 + i));
            r.release();
        }
        VariantKeys fr = vary -> vary.equals("Accept-Language") ? "lang=fr" : "?";
        StoredResponse v = again.load("/v", fr).get(10, TimeUnit.SECONDS);
        assertThat(bytes(v)).isEqualTo(pattern("fr", 11));
        v.release();
        // the tag index came back too
        assertThat(again.purgeTag("even0")).isEqualTo(10);
    }

    @Test
    void aTruncatedFileIsDroppedByTheScanAndAtLoad() throws Exception {
        DiskTier t = open(10 << 20);
        storeAndRelease(t, meta("/t1", ""), pattern("t1", 5000));
        storeAndRelease(t, meta("/t2", ""), pattern("t2", 5000));
        storeAndRelease(t, meta("/keep", ""), pattern("keep", 5000));
        t.flush().get(10, TimeUnit.SECONDS);
        // cut short after it was indexed: the load finds it out
        truncate(file("/t1", ""), 3000);
        assertThat(load(t, "/t1")).isNull();
        awaitTrue(() -> !Files.exists(file("/t1", "")), "the damaged file deleted");
        assertThat(stats.count("damaged")).isEqualTo(1);
        restart(t);

        // cut short while the process was down (a crash mid-write leaves a temp file, never this; a disk might)
        truncate(file("/t2", ""), 100);
        DiskTier again = open(10 << 20);
        assertThat(again.objects()).isEqualTo(1);
        assertThat(Files.exists(file("/t2", ""))).isFalse();
        assertThat(stats.count("damaged")).isEqualTo(2);
        assertThat(load(again, "/t2")).isNull();
        StoredResponse keep = load(again, "/keep");
        assertThat(bytes(keep)).isEqualTo(pattern("keep", 5000));
        keep.release();
    }

    @Test
    void aFlippedByteAnywhereIsCaughtByAChecksumAndNeverServed() throws Exception {
        DiskTier t = open(10 << 20);
        byte[] body = pattern("flip", 100_000);
        storeAndRelease(t, meta("/body", ""), body);
        storeAndRelease(t, meta("/head", ""), body);
        t.flush().get(10, TimeUnit.SECONDS);
        Path bodyFile = file("/body", "");
        flip(bodyFile, Files.size(bodyFile) - 50_000); // in the body: only the whole-file checksum sees it
        StoredResponse r = load(t, "/body");
        assertThat(r).isNull();
        awaitTrue(() -> !Files.exists(bodyFile), "the damaged file deleted");
        assertThat(t.objects()).isEqualTo(1);
        restart(t);

        Path headFile = file("/head", "");
        flip(headFile, DiskFormat.HEADER + 3); // in the meta: the scan's head checksum sees it
        DiskTier again = open(10 << 20);
        assertThat(again.objects()).isZero();
        assertThat(Files.exists(headFile)).isFalse();
        assertThat(stats.count("damaged")).isEqualTo(2);
        assertThat(stats.count("hits")).isZero();
    }

    @Test
    void leftoverTempFilesAndForeignFilesAtStart() throws Exception {
        DiskTier t = open(10 << 20);
        storeAndRelease(t, meta("/ok", ""), pattern("ok", 100));
        t.flush().get(10, TimeUnit.SECONDS);
        restart(t);
        // what a kill -9 during a write leaves: a temp file of the key, maybe half written
        Path ok = file("/ok", "");
        Path temp = ok.resolveSibling(ok.getFileName() + DiskFiles.TEMP_SUFFIX);
        Files.write(temp, new byte[] {1, 2, 3});
        Path otherTemp = file("/never", "");
        otherTemp = otherTemp.resolveSibling(otherTemp.getFileName() + DiskFiles.TEMP_SUFFIX);
        Files.write(otherTemp, new byte[4096]);
        Path foreign = dir.resolve("README.txt");
        Files.writeString(foreign, "the operator's note");
        Path garbage = ok.resolveSibling("f".repeat(64)); // an object name that holds no object
        Files.writeString(garbage, "not a cache file");

        DiskTier again = open(10 << 20);
        assertThat(Files.exists(temp)).isFalse();
        assertThat(Files.exists(otherTemp)).isFalse();
        assertThat(Files.exists(garbage)).isFalse();
        assertThat(Files.readString(foreign)).isEqualTo("the operator's note");
        assertThat(again.objects()).isEqualTo(1);
        StoredResponse r = load(again, "/ok");
        assertThat(bytes(r)).isEqualTo(pattern("ok", 100));
        r.release();
    }

    @Test
    void overItsSizeTheLeastRecentlyUsedFilesAreEvicted() throws Exception {
        long fileSize = fileSizeOf(10_000);
        DiskTier t = open(fileSize * 4 + fileSize / 2); // room for four
        for (int i = 0; i < 4; i++) {
            storeAndRelease(t, meta("/e" + i, ""), pattern("e" + i, 10_000));
            t.flush().get(10, TimeUnit.SECONDS);
        }
        assertThat(t.objects()).isEqualTo(4);
        StoredResponse touched = load(t, "/e0"); // now the most recently used
        touched.release();
        storeAndRelease(t, meta("/e4", ""), pattern("e4", 10_000));
        t.flush().get(10, TimeUnit.SECONDS);
        assertThat(t.bytes()).isLessThanOrEqualTo(fileSize * 4 + fileSize / 2);
        assertThat(t.objects()).isEqualTo(4);
        assertThat(Files.exists(file("/e1", ""))).isFalse(); // the least recently used
        assertThat(load(t, "/e1")).isNull();
        for (String k : List.of("/e0", "/e2", "/e3", "/e4")) {
            StoredResponse r = load(t, k);
            assertThat(r).as(k).isNotNull();
            r.release();
        }
        assertThat(stats.count("evictions")).isEqualTo(1);
        assertThat(objectFiles()).hasSize(4);
    }

    @Test
    void purgesByKeyPrefixAndTagRemoveTheFilesForGood() throws Exception {
        DiskTier t = open(10 << 20);
        storeAndRelease(t, meta("https://h/a", "", "Surrogate-Key", "red"), pattern("a", 10));
        storeAndRelease(t, meta("https://h/a/1", "", "Surrogate-Key", "blue"), pattern("a1", 10));
        storeAndRelease(t, meta("https://h/a/2", "", "Surrogate-Key", "red blue"), pattern("a2", 10));
        storeAndRelease(t, meta("https://h/b", "", "Cache-Tag", "red"), pattern("b", 10));
        storeAndRelease(t, meta("https://h/c", "v1", "Vary", "X"), pattern("c1", 10));
        storeAndRelease(t, meta("https://h/c", "v2", "Vary", "X"), pattern("c2", 10));
        t.flush().get(10, TimeUnit.SECONDS);

        assertThat(t.purgeKey("https://h/c")).isEqualTo(2); // every variant
        assertThat(t.purgePrefix("https://h/a/")).isEqualTo(2);
        assertThat(t.purgeTag("red")).isEqualTo(2); // /a and /b; /a/2 went with the prefix
        assertThat(t.purgeTag("red")).isZero();
        t.flush().get(10, TimeUnit.SECONDS);
        assertThat(t.objects()).isZero();
        assertThat(t.bytes()).isZero();
        assertThat(objectFiles()).isEmpty();
        assertThat(t.index().primaryCount()).isZero();
        assertThat(t.index().orderedCount()).isZero();
        assertThat(t.index().tagCount()).isZero();
        restart(t);
        assertThat(open(10 << 20).objects()).isZero();
    }

    @Test
    void aPurgeWinsOverAWriteQueuedBeforeIt() throws Exception {
        DiskTier t = open(10 << 20);
        for (int i = 0; i < 50; i++) {
            storeAndRelease(t, meta("/p/" + i, ""), pattern("p" + i, 50_000));
        }
        // the writes are likely still queued: the purge finds few in the index, and deletes them all anyway
        t.purgePrefix("/p/");
        t.flush().get(30, TimeUnit.SECONDS);
        assertThat(t.objects()).isZero();
        assertThat(objectFiles()).isEmpty();
        assertThat(load(t, "/p/49")).isNull();
    }

    @Test
    void concurrentStoresOfOneKeyLeaveOneWholeVersion() throws Exception {
        DiskTier t = open(50 << 20);
        int threads = 8;
        int each = 10;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int th = 0; th < threads; th++) {
            int id = th;
            done.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < each; i++) {
                    String version = id + "." + i;
                    storeAndRelease(t, meta("/same", "", "X-Version", version), pattern(version, 30_000 + id * 100 + i));
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        t.flush().get(30, TimeUnit.SECONDS);
        assertThat(t.objects()).isEqualTo(1);
        assertThat(t.bytes()).isEqualTo(Files.size(file("/same", "")));
        StoredResponse r = load(t, "/same");
        String version = r.meta().headers().get("X-Version");
        String[] parts = version.split("\\.");
        int length = 30_000 + Integer.parseInt(parts[0]) * 100 + Integer.parseInt(parts[1]);
        assertThat(bytes(r)).isEqualTo(pattern(version, length)); // the head and the body of one version
        r.release();
        try (Stream<Path> s = Files.walk(dir)) {
            assertThat(s.filter(p -> p.toString().endsWith(DiskFiles.TEMP_SUFFIX)).toList()).isEmpty();
        }
    }

    @Test
    void closingFinishesTheQueuedWrites() throws Exception {
        DiskTier t = open(50 << 20);
        for (int i = 0; i < 30; i++) {
            storeAndRelease(t, meta("/w/" + i, ""), pattern("w" + i, 20_000));
        }
        restart(t); // no flush: close itself waits for them
        DiskTier again = open(50 << 20);
        assertThat(again.objects()).isEqualTo(30);
        StoredResponse r = load(again, "/w/29");
        assertThat(bytes(r)).isEqualTo(pattern("w29", 20_000));
        r.release();
    }

    @Test
    void aFullWriteQueueDropsNewWritesInsteadOfWaitingOrGrowing() throws Exception {
        DiskTier t = open(500 << 20, 2 << 20);
        CountDownLatch hold = new CountDownLatch(1);
        t.onWriterThread(() -> await(hold)); // the disk is "slow": nothing is written meanwhile
        for (int i = 0; i < DiskStore.MAX_PENDING_WRITES + 10; i++) {
            storeAndRelease(t, meta("/q/" + i, ""), pattern("q", 100));
        }
        assertThat(stats.count("writes_dropped")).isEqualTo(10);
        // and by bytes: 1 MiB objects fill the 64 MiB bound long before the count
        hold.countDown();
        t.flush().get(30, TimeUnit.SECONDS);
        CountDownLatch hold2 = new CountDownLatch(1);
        t.onWriterThread(() -> await(hold2));
        int accepted = (int) (DiskStore.MAX_PENDING_BYTES / (1 << 20));
        for (int i = 0; i < accepted + 5; i++) {
            storeAndRelease(t, meta("/m/" + i, ""), pattern("m", 1 << 20));
        }
        assertThat(stats.count("writes_dropped")).isEqualTo(15);
        hold2.countDown();
        t.flush().get(60, TimeUnit.SECONDS);
        assertThat(t.objects()).isEqualTo(DiskStore.MAX_PENDING_WRITES + accepted);
        assertThat(stats.count("writes")).isEqualTo(DiskStore.MAX_PENDING_WRITES + accepted);
        // the dropped ones were released (checked after each test: no live buffer)
    }

    @Test
    void closingGivesUpOnWritesStuckPastItsBound() throws Exception {
        DiskTier t = open(50 << 20);
        CountDownLatch never = new CountDownLatch(1);
        t.onWriterThread(() -> await(never)); // a hung disk
        for (int i = 0; i < 5; i++) {
            storeAndRelease(t, meta("/stuck/" + i, ""), pattern("s" + i, 1000));
        }
        restart(t); // waits DiskStore.CLOSE_WAIT_MILLIS, then interrupts the writer and drops the queued writes
        DiskTier again = open(50 << 20); // the directory is free again
        assertThat(again.objects()).isZero();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing gave up on us
        }
    }

    @Test
    void aReloadedZoneTakesOverTheOpenDirectory() throws Exception {
        DiskTier old = open(10 << 20);
        storeAndRelease(old, meta("/h", ""), pattern("h", 100));
        old.flush().get(10, TimeUnit.SECONDS);
        // the new zone's tier opens before the old zone closes (a reload): same store, no second lock or scan
        DiskTier next = DiskTier.open("z", new CacheZoneConfig.Disk(dir, 5 << 20), 1000, alloc, stats);
        open.add(next);
        assertThat(next.isReady()).isTrue();
        assertThat(next.objects()).isEqualTo(1);
        restart(old);
        StoredResponse r = load(next, "/h");
        assertThat(bytes(r)).isEqualTo(pattern("h", 100));
        r.release();
        storeAndRelease(next, meta("/big", ""), pattern("big", 5000));
        next.flush().get(10, TimeUnit.SECONDS);
        assertThat(load(next, "/big")).isNull(); // over this zone's max_object_size of 1000: not served
    }

    @Test
    void aDirectoryLockedByAnotherProcessIsRefused() throws Exception {
        Files.createDirectories(dir);
        try (FileChannel ch = FileChannel.open(dir.resolve(DirectoryLock.FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = ch.lock()) {
            IOException e = catchThrowableOfType(IOException.class, () -> DiskTier.open("z",
                    new CacheZoneConfig.Disk(dir, 1 << 20), MAX_OBJECT, alloc, stats));
            assertThat(e).hasMessageContaining("is in use by another process")
                    .hasMessageContaining("give each Portcullis process its own disk path");
        }
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsRefused() throws Exception {
        Path file = dir.resolve("plain-file");
        Files.writeString(file, "x");
        IOException e = catchThrowableOfType(IOException.class, () -> DiskTier.open("z",
                new CacheZoneConfig.Disk(file.resolve("cache"), 1 << 20), MAX_OBJECT, alloc, stats));
        assertThat(e).hasMessageStartingWith("cannot create the directory " + file.resolve("cache"));
    }

    // ---- helpers ----

    private static ResponseMeta meta(String pk, String vk, String... headers) {
        return ResponseMeta.of(pk, vk, 200, "OK", HeaderList.of(headers), 1000, 2000);
    }

    private void storeAndRelease(DiskTier t, ResponseMeta meta, byte[] body) {
        Body b = Body.open(alloc, body.length, 1 << 24);
        ByteBuf src = Unpooled.wrappedBuffer(body);
        b.append(src);
        src.release();
        b.seal();
        StoredResponse r = StoredResponse.of(meta, b);
        t.store(r); // the tier takes its own reference
        r.release();
    }

    private static StoredResponse load(DiskTier t, String pk) throws Exception {
        return t.load(pk, VariantKeys.NONE).get(10, TimeUnit.SECONDS);
    }

    private static byte[] bytes(StoredResponse r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.body().forEachChunk(c -> {
            byte[] b = new byte[c.readableBytes()];
            c.getBytes(c.readerIndex(), b);
            out.writeBytes(b);
        });
        return out.toByteArray();
    }

    private Path file(String pk, String vk) {
        return DiskFiles.path(dir, DiskFiles.name(new CacheKey(pk, vk)));
    }

    private long fileSizeOf(int bodyLength) {
        return DiskFormat.HEADER + DiskFormat.encodeMeta(meta("/e0", "")).length + bodyLength + DiskFormat.TRAILER;
    }

    private List<Path> objectFiles() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> DiskFiles.isObjectName(p.getFileName().toString())).toList();
        }
    }

    private static void truncate(Path p, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private static void flip(Path p, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
    }

    static byte[] pattern(String seed, int length) {
        byte[] b = new byte[length];
        int h = seed.hashCode();
        for (int i = 0; i < length; i++) {
            h = h * 31 + i;
            b[i] = (byte) (h ^ (h >>> 13));
        }
        return b;
    }

    private long live() {
        long n = 0;
        for (PoolArenaMetric a : alloc.metric().directArenas()) {
            n += a.numActiveAllocations();
        }
        return n;
    }

    private static void awaitTrue(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }
}
