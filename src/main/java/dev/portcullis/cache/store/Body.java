package dev.portcullis.cache.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ReferenceCounted;
import io.netty.util.concurrent.EventExecutor;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * A response body held as pooled direct chunks: written once by one thread (the leader's event loop, or a disk
 * loader), read by any number of {@link BodySubscription}s on any executors, WHILE it is being written.
 *
 * <p>Bytes are copied once, on {@link #append}, into chunks this body owns: an upstream read buffer is often a
 * slice of a bigger one, and keeping it would pin memory the weigher cannot see. Readers get retained slices of
 * the chunks (never copies). The writer publishes progress through the volatile {@link #length}; a reader only
 * reads chunk bytes below the length it has read, and chunks never move, so no lock is needed.
 *
 * <p>Reference counted: the fill, the cache, every reader lease and every subscription hold one reference each;
 * the chunks go back to the pool when the last is released (a slice still in a channel's outbound buffer keeps its
 * chunk alive on its own).
 */
public final class Body implements ReferenceCounted {
    /** The largest chunk: big enough for few writes, small enough to stay in the pool's normal size classes. */
    static final int MAX_CHUNK = 64 * 1024;
    /** Heap overhead counted per chunk (the ByteBuf object, its slot in the arrays). */
    static final int CHUNK_OVERHEAD = 96;

    static final int OPEN = 0;
    static final int SEALED = 1;
    static final int ABORTED = 2;

    private static final AtomicIntegerFieldUpdater<Body> REFS =
            AtomicIntegerFieldUpdater.newUpdater(Body.class, "refs");
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<Body, BodySubscription[]> SUBSCRIBERS =
            AtomicReferenceFieldUpdater.newUpdater(Body.class, BodySubscription[].class, "subscribers");
    private static final BodySubscription[] NONE = new BodySubscription[0];

    /** The chunk arrays; replaced (bigger) by the writer, slots below the published length never change. */
    record Segments(ByteBuf[] chunks, long[] starts) {}

    private final ByteBufAllocator alloc;
    private final long expectedLength;
    private final long maxLength;

    // written by the writer thread only
    private ByteBuf tail;
    private int tailUsed;
    private int count;
    private long written;
    private long capacityBytes;

    private volatile Segments segments = new Segments(new ByteBuf[4], new long[4]);
    private volatile long length;
    private volatile int state = OPEN;
    private volatile AbortReason abortReason;
    private volatile int refs = 1;
    private volatile BodySubscription[] subscribers = NONE;

    private Body(ByteBufAllocator alloc, long expectedLength, long maxLength) {
        this.alloc = alloc;
        this.expectedLength = expectedLength;
        this.maxLength = maxLength;
    }

    /**
     * A body to write; the caller holds its first reference.
     *
     * @param expectedLength the Content-Length when known (chunks are then sized to fit), else -1
     * @param maxLength      appending past this aborts the body with {@link AbortReason#TOO_LARGE}
     */
    public static Body open(ByteBufAllocator alloc, long expectedLength, long maxLength) {
        return new Body(alloc, expectedLength, maxLength);
    }

    /**
     * Copies {@code src}'s readable bytes (its indexes and ownership stay with the caller) and wakes the readers.
     * Writer thread only.
     *
     * @return false when the body no longer takes bytes: it was sealed or aborted, or these bytes would pass
     *         the maximum length (the body is then aborted with TOO_LARGE) or could not be allocated
     */
    public boolean append(ByteBuf src) {
        if (state != OPEN) {
            return false;
        }
        int n = src.readableBytes();
        if (n == 0) {
            return true;
        }
        if (written + n > maxLength) {
            abort(AbortReason.TOO_LARGE);
            return false;
        }
        int srcIndex = src.readerIndex();
        try {
            while (n > 0) {
                if (tail == null || tailUsed == tail.capacity()) {
                    newChunk(n);
                }
                int k = Math.min(n, tail.capacity() - tailUsed);
                tail.setBytes(tailUsed, src, srcIndex, k);
                tailUsed += k;
                srcIndex += k;
                n -= k;
                written += k;
            }
        } catch (OutOfMemoryError e) {
            abort(AbortReason.OUT_OF_MEMORY);
            return false;
        }
        length = written; // publishes the bytes and any new chunk
        signalAll();
        return true;
    }

    private void newChunk(int pending) {
        long remainingExpected = expectedLength >= 0 ? expectedLength - written : -1;
        int cap;
        if (remainingExpected >= pending) {
            cap = (int) Math.min(remainingExpected, MAX_CHUNK);
        } else {
            // length unknown (or the origin sends more than it said): the first chunk fits exactly, later ones grow
            // with the body so far, so a small body wastes little and a big one needs few chunks
            cap = (int) Math.min(MAX_CHUNK, Math.max(pending, written));
        }
        ByteBuf chunk = alloc.directBuffer(cap, cap);
        Segments seg = segments;
        if (count == seg.chunks.length) {
            seg = new Segments(Arrays.copyOf(seg.chunks, count * 2), Arrays.copyOf(seg.starts, count * 2));
        }
        seg.chunks[count] = chunk;
        seg.starts[count] = written;
        count++;
        segments = seg;
        tail = chunk;
        tailUsed = 0;
        capacityBytes += cap;
    }

    /** The body is complete: readers finish once they have read it all. Writer thread only. */
    public void seal() {
        if (state == OPEN) {
            state = SEALED;
            signalAll();
        }
    }

    /** The body will never be complete: readers are told at once (see {@link BodyReceiver#onAbort}). */
    public void abort(AbortReason reason) {
        if (state == OPEN) {
            abortReason = reason;
            state = ABORTED;
            signalAll();
        }
    }

    /** Bytes written so far; the final length once {@link #isSealed()}. */
    public long length() {
        return length;
    }

    public boolean isSealed() {
        return state == SEALED;
    }

    public boolean isAborted() {
        return state == ABORTED;
    }

    /** Why it was aborted, or null. */
    public AbortReason abortReason() {
        return abortReason;
    }

    int state() {
        return state;
    }

    /** Chunks so far (for tests and weights). */
    int chunkCount() {
        return count;
    }

    /** Memory the chunks take, counted once sealed (read on the writer's thread or after the seal). */
    long memoryBytes() {
        return capacityBytes + (long) count * CHUNK_OVERHEAD;
    }

    ByteBuf chunk(int index) {
        return segments.chunks[index];
    }

    /**
     * Hands each chunk of a sealed body to {@code sink}, in order, as a read-only slice of its bytes (for a lower
     * tier that writes the body out). The slices take no reference: they are valid while the caller holds one.
     */
    public void forEachChunk(java.util.function.Consumer<ByteBuf> sink) {
        if (state != SEALED) {
            throw new IllegalStateException("only a complete body can be copied out");
        }
        Segments seg = segments;
        long total = length;
        for (int i = 0; i < count; i++) {
            long end = i + 1 < count ? seg.starts[i + 1] : total;
            sink.accept(seg.chunks[i].slice(0, (int) (end - seg.starts[i])).asReadOnly());
        }
    }

    /**
     * Streams the body from {@code from} (inclusive) to {@code to} (exclusive; Long.MAX_VALUE for the end) to
     * {@code receiver} on {@code executor}: what is there now, then each chunk as it is appended. The subscription
     * holds its own reference until it ends. When called on {@code executor} the bytes already there are delivered
     * before this returns.
     */
    public BodySubscription subscribe(EventExecutor executor, BodyReceiver receiver, long from, long to) {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bad range " + from + ".." + to);
        }
        retain();
        BodySubscription sub = new BodySubscription(this, executor, receiver, from, to);
        if (state == OPEN) {
            register(sub); // then start() reads the state again: a seal between the two is not missed
        }
        sub.start();
        return sub;
    }

    /** The whole body. */
    public BodySubscription subscribe(EventExecutor executor, BodyReceiver receiver) {
        return subscribe(executor, receiver, 0, Long.MAX_VALUE);
    }

    /**
     * A retained slice from {@code pos} up to {@code limit} (at most the published length) that stops at its
     * chunk's end. {@code hint} is a chunk index at or before the one holding {@code pos}; the chunk used is
     * returned through {@code cursor[0]}.
     */
    ByteBuf slice(long pos, long limit, int[] cursor) {
        Segments seg = segments; // read after the caller read length: holds every chunk below it
        int i = cursor[0];
        while (pos >= seg.starts[i] + seg.chunks[i].capacity()) {
            i++;
        }
        cursor[0] = i;
        ByteBuf chunk = seg.chunks[i];
        int off = (int) (pos - seg.starts[i]);
        int n = (int) Math.min(limit - pos, chunk.capacity() - off);
        return chunk.retainedSlice(off, n);
    }

    private void register(BodySubscription sub) {
        for (;;) {
            BodySubscription[] cur = subscribers;
            BodySubscription[] next = Arrays.copyOf(cur, cur.length + 1);
            next[cur.length] = sub;
            if (SUBSCRIBERS.compareAndSet(this, cur, next)) {
                return;
            }
        }
    }

    void unregister(BodySubscription sub) {
        for (;;) {
            BodySubscription[] cur = subscribers;
            int at = -1;
            for (int i = 0; i < cur.length; i++) {
                if (cur[i] == sub) {
                    at = i;
                    break;
                }
            }
            if (at < 0) {
                return;
            }
            BodySubscription[] next = cur.length == 1 ? NONE : new BodySubscription[cur.length - 1];
            System.arraycopy(cur, 0, next, 0, at);
            System.arraycopy(cur, at + 1, next, at, cur.length - at - 1);
            if (SUBSCRIBERS.compareAndSet(this, cur, next)) {
                return;
            }
        }
    }

    private void signalAll() {
        for (BodySubscription s : subscribers) {
            s.signal();
        }
    }

    /** Takes a reference unless the body is already freed (a racing eviction); never throws. */
    boolean tryRetain() {
        for (;;) {
            int c = refs;
            if (c <= 0) {
                return false;
            }
            if (REFS.compareAndSet(this, c, c + 1)) {
                return true;
            }
        }
    }

    @Override
    public int refCnt() {
        return refs;
    }

    @Override
    public Body retain() {
        return retain(1);
    }

    @Override
    public Body retain(int increment) {
        for (;;) {
            int c = refs;
            if (c <= 0 || c + increment < c) {
                throw new IllegalReferenceCountException(c, increment);
            }
            if (REFS.compareAndSet(this, c, c + increment)) {
                return this;
            }
        }
    }

    @Override
    public Body touch() {
        return this;
    }

    @Override
    public Body touch(Object hint) {
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        for (;;) {
            int c = refs;
            if (c < decrement || decrement <= 0) {
                throw new IllegalReferenceCountException(c, -decrement);
            }
            if (REFS.compareAndSet(this, c, c - decrement)) {
                if (c == decrement) {
                    deallocate();
                    return true;
                }
                return false;
            }
        }
    }

    /**
     * The last reference is gone. The writer released its reference after its last write, and every release is a
     * CAS on {@code refs}, so the writer's plain fields are visible here whichever thread releases last.
     */
    private void deallocate() {
        ByteBuf[] chunks = segments.chunks;
        for (int i = 0; i < count; i++) {
            chunks[i].release();
            chunks[i] = null;
        }
        tail = null;
    }

    @Override
    public String toString() {
        return "Body(" + length + " bytes, " + (state == OPEN ? "open" : state == SEALED ? "sealed" : "aborted")
                + ", refs " + refs + ")";
    }
}
