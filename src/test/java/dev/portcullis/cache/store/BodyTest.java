package dev.portcullis.cache.store;

import static dev.portcullis.cache.store.StoreFixtures.assertLiveReturnsTo;
import static dev.portcullis.cache.store.StoreFixtures.await;
import static dev.portcullis.cache.store.StoreFixtures.live;
import static dev.portcullis.cache.store.StoreFixtures.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.cache.store.StoreFixtures.Collector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.IllegalReferenceCountException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The chunked body: sizing, reading while written, ranges, pause and resume, references. */
class BodyTest {
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private PooledByteBufAllocator alloc;

    @BeforeEach
    void setUp() {
        group = StoreFixtures.loops(1);
        loop = group.next();
        alloc = StoreFixtures.exactAllocator();
    }

    @AfterEach
    void tearDown() throws Exception {
        assertLiveReturnsTo(alloc, 0);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void append(Body b, byte[] bytes, int from, int to) {
        assertThat(b.append(Unpooled.wrappedBuffer(bytes, from, to - from))).isTrue();
    }

    @Test
    void aKnownLengthIsStoredInChunksThatFitIt() {
        Body b = Body.open(alloc, 100_000, 1 << 20);
        byte[] bytes = pattern("k", 100_000);
        for (int i = 0; i < bytes.length; i += 7000) {
            append(b, bytes, i, Math.min(bytes.length, i + 7000));
        }
        b.seal();
        assertThat(b.chunkCount()).isEqualTo(2); // 64 KiB + the rest, no waste
        assertThat(b.chunk(0).capacity() + b.chunk(1).capacity()).isEqualTo(100_000);
        assertThat(b.length()).isEqualTo(100_000);
        b.release();
    }

    @Test
    void anUnknownLengthGrowsItsChunksWithTheBody() {
        Body b = Body.open(alloc, -1, 1 << 20);
        byte[] bytes = pattern("u", 300);
        append(b, bytes, 0, 300);
        b.seal();
        assertThat(b.chunkCount()).isEqualTo(1);
        assertThat(b.chunk(0).capacity()).isEqualTo(300); // a small body in one read wastes nothing
        b.release();

        Body big = Body.open(alloc, -1, 1 << 20);
        byte[] more = pattern("m", 500_000);
        for (int i = 0; i < more.length; i += 1000) {
            append(big, more, i, i + 1000);
        }
        big.seal();
        assertThat(big.chunkCount()).isLessThan(20); // not 500 one-kilobyte chunks
        assertThat(big.memoryBytes()).isLessThan(500_000 + 64 * 1024 + 20L * Body.CHUNK_OVERHEAD);
        big.release();
    }

    @Test
    void theWritersBufferIsCopiedNotTaken() {
        Body b = Body.open(alloc, -1, 1000);
        ByteBuf src = alloc.directBuffer(10).writeBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        src.readerIndex(2);
        assertThat(b.append(src)).isTrue();
        assertThat(src.readerIndex()).isEqualTo(2); // untouched: the leader still writes it to its client
        assertThat(src.refCnt()).isEqualTo(1);
        src.release();
        assertThat(b.length()).isEqualTo(8);
        b.release();
    }

    @Test
    void aReaderGetsEachChunkAsItIsAppendedOnItsOwnExecutor() throws Exception {
        Body b = Body.open(alloc, -1, 1 << 20);
        byte[] bytes = pattern("s", 50_000);
        Collector c = new Collector();
        BodySubscription sub = b.subscribe(loop, c);
        append(b, bytes, 0, 10_000);
        StoreFixtures.awaitTrue(() -> c.received.get() == 10_000, "first part");
        assertThat(loop.inEventLoop(c.thread)).isTrue();
        append(b, bytes, 10_000, 50_000);
        StoreFixtures.awaitTrue(() -> c.received.get() == 50_000, "the rest");
        assertThat(c.done).isNotDone(); // not complete until sealed
        b.seal();
        assertThat(await(c.done)).isEqualTo(bytes);
        assertThat(sub.isDone()).isTrue();
        assertThat(c.batches.get()).isPositive();
        b.release();
    }

    @Test
    void aPausedReaderGetsNothingUntilItResumes() throws Exception {
        Body b = Body.open(alloc, -1, 1 << 20);
        byte[] bytes = pattern("p", 40_000);
        for (int i = 0; i < 40_000; i += 10_000) {
            append(b, bytes, i, i + 10_000);
        }
        b.seal();
        Collector c = new Collector();
        c.pauseAt = 1;
        BodySubscription sub = StoreFixtures.on(loop, () -> b.subscribe(loop, c));
        long got = c.received.get();
        assertThat(got).isPositive().isLessThan(40_000);
        Thread.sleep(50);
        assertThat(c.received.get()).isEqualTo(got);
        c.pauseAt = Long.MAX_VALUE;
        sub.resume();
        assertThat(await(c.done)).isEqualTo(bytes);
        b.release();
    }

    @Test
    void anAbortEndsReadersWithoutCompletingThem() throws Exception {
        Body b = Body.open(alloc, -1, 1 << 20);
        Collector c = new Collector();
        b.subscribe(loop, c);
        append(b, pattern("a", 5000), 0, 5000);
        StoreFixtures.awaitTrue(() -> c.received.get() == 5000, "bytes");
        b.abort(AbortReason.UPSTREAM_FAILED);
        assertThat(c.aborted.get(10, TimeUnit.SECONDS)).isEqualTo(AbortReason.UPSTREAM_FAILED);
        assertThat(c.abortedAfter).isEqualTo(5000);
        assertThat(b.append(Unpooled.wrappedBuffer(new byte[1]))).isFalse();
        b.release();
    }

    @Test
    void passingTheMaximumAbortsWithTooLarge() throws Exception {
        Body b = Body.open(alloc, -1, 1000);
        Collector c = new Collector();
        b.subscribe(loop, c);
        append(b, new byte[1000], 0, 1000);
        assertThat(b.append(Unpooled.wrappedBuffer(new byte[1]))).isFalse();
        assertThat(b.isAborted()).isTrue();
        assertThat(c.aborted.get(10, TimeUnit.SECONDS)).isEqualTo(AbortReason.TOO_LARGE);
        b.release();
    }

    @Test
    void chunksStayUntilTheLastReferenceAndItsSlicesAreGone() throws Exception {
        Body b = Body.open(alloc, 10, 100);
        append(b, new byte[10], 0, 10);
        b.seal();
        Collector c = new Collector();
        c.pauseAt = 1;
        BodySubscription sub = StoreFixtures.on(loop, () -> b.subscribe(loop, c));
        assertThat(b.refCnt()).isEqualTo(2);
        b.release(); // the owner lets go; the subscription still holds the body
        assertThat(live(alloc)).isEqualTo(1);
        sub.cancel();
        StoreFixtures.awaitTrue(sub::isDone, "cancel");
        assertThat(b.refCnt()).isZero();
        assertThat(b.tryRetain()).isFalse();
        assertThatThrownBy(b::retain).isInstanceOf(IllegalReferenceCountException.class);
        assertThatThrownBy(b::release).isInstanceOf(IllegalReferenceCountException.class);
    }

    @Test
    void badRangesAreRefused() {
        Body b = Body.open(alloc, -1, 100);
        assertThatThrownBy(() -> b.subscribe(loop, new Collector(), -1, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.subscribe(loop, new Collector(), 5, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThat(b.refCnt()).isEqualTo(1);
        b.release();
    }
}
