package dev.portcullis.cache.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/** Real event loops, an allocator whose live allocations can be counted exactly, and a collecting reader. */
final class StoreFixtures {
    private StoreFixtures() {}

    static final Duration WAIT = Duration.ofSeconds(10);

    /**
     * A pooled direct allocator without thread caches: a freed buffer goes straight back to its arena, so
     * {@link #live} is exact (with caches, frees into a cache are not counted).
     */
    static PooledByteBufAllocator exactAllocator() {
        return new PooledByteBufAllocator(true, 0, 1, 8192, 9, 0, 0, false);
    }

    /** Buffers allocated and not yet freed. */
    static long live(PooledByteBufAllocator alloc) {
        long n = 0;
        for (PoolArenaMetric a : alloc.metric().directArenas()) {
            n += a.numActiveAllocations();
        }
        return n;
    }

    static MultiThreadIoEventLoopGroup loops(int n) {
        return new MultiThreadIoEventLoopGroup(n, NioIoHandler.newFactory());
    }

    static List<EventLoop> eachLoop(MultiThreadIoEventLoopGroup group, int n) {
        List<EventLoop> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(group.next());
        }
        return out;
    }

    static CacheZone zone(String name, long memory, long maxObject, ByteBufAllocator alloc, ProxyMetrics metrics) {
        return new CacheZone(new CacheZoneConfig(name, memory, null, maxObject), metrics.cache(name), alloc,
                Runnable::run);
    }

    /** Runs on the loop and waits for the result (the leader's calls must come from its one loop). */
    static <T> T on(EventExecutor loop, Callable<T> task) throws Exception {
        return loop.submit(task).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static void run(EventExecutor loop, Runnable task) throws Exception {
        loop.submit(task).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static ResponseMeta meta(String pk, String vk, String... headers) {
        return ResponseMeta.of(pk, vk, 200, "OK", HeaderList.of(headers), 1000, 1001);
    }

    /** Deterministic body bytes for a key: what every reader of that key must see. */
    static byte[] pattern(String seed, int length) {
        byte[] b = new byte[length];
        int h = seed.hashCode();
        for (int i = 0; i < length; i++) {
            h = h * 31 + i;
            b[i] = (byte) (h ^ (h >>> 13));
        }
        return b;
    }

    /** Appends {@code bytes[from, to)} as an upstream chunk would arrive: a pooled buffer the caller releases. */
    static boolean appendPart(Fill fill, ByteBufAllocator upstreamAlloc, byte[] bytes, int from, int to) {
        ByteBuf chunk = upstreamAlloc.directBuffer(to - from);
        try {
            chunk.writeBytes(bytes, from, to - from);
            return fill.append(chunk);
        } finally {
            chunk.release(); // the leader's own client write would release it
        }
    }

    static void awaitTrue(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /**
     * Reads a body like a client connection would: copies each chunk then releases it. Can pause after a number of
     * bytes, and records whether bytes came before the leader completed.
     */
    static final class Collector implements BodyReceiver {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final CompletableFuture<AbortReason> aborted = new CompletableFuture<>();
        final AtomicLong received = new AtomicLong();
        final AtomicInteger chunks = new AtomicInteger();
        final AtomicInteger batches = new AtomicInteger();
        volatile long pauseAt = Long.MAX_VALUE;
        volatile BooleanSupplier leaderDone = () -> false;
        volatile boolean gotBytesBeforeLeaderDone;
        volatile long abortedAfter = -1;
        volatile Thread thread;
        volatile BodySubscription subscription;

        /** The subscription feeding this collector (set by the first chunk's delivery at the latest). */
        BodySubscription subscription() {
            return subscription;
        }

        @Override
        public boolean onChunk(ByteBuf chunk) {
            thread = Thread.currentThread();
            try {
                if (!leaderDone.getAsBoolean()) {
                    gotBytesBeforeLeaderDone = true;
                }
                byte[] b = new byte[chunk.readableBytes()];
                chunk.readBytes(b);
                bytes.writeBytes(b);
                chunks.incrementAndGet();
                return received.addAndGet(b.length) < pauseAt;
            } finally {
                chunk.release();
            }
        }

        @Override
        public void onBatchEnd() {
            batches.incrementAndGet();
        }

        @Override
        public void onComplete() {
            done.complete(bytes.toByteArray());
        }

        @Override
        public void onAbort(AbortReason reason, long bytesDelivered) {
            abortedAfter = bytesDelivered;
            aborted.complete(reason);
        }
    }

    static byte[] await(CompletableFuture<byte[]> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static void assertLiveReturnsTo(PooledByteBufAllocator alloc, long expected) throws InterruptedException {
        awaitTrue(() -> live(alloc) == expected, "live allocations back to " + expected + " (now " + live(alloc) + ")");
        assertThat(live(alloc)).isEqualTo(expected);
    }
}
