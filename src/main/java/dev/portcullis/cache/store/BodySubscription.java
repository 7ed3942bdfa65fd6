package dev.portcullis.cache.store;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One reader of a {@link Body}: delivers its bytes to a {@link BodyReceiver} on the reader's own executor, as fast
 * as the reader takes them. Backpressure is per reader: a receiver that returns false from
 * {@link BodyReceiver#onChunk} stops only its own delivery; the writer never waits for anyone (the body keeps
 * every chunk anyway, since it is being stored).
 *
 * <p>The writer wakes a reader with {@link #signal()}, at most one task queued per reader at a time. The drain
 * clears that flag before it reads the published length, so a wake-up is never lost.
 */
public final class BodySubscription {
    private static final AtomicIntegerFieldUpdater<BodySubscription> SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(BodySubscription.class, "scheduled");
    private static final AtomicIntegerFieldUpdater<BodySubscription> FINISHED =
            AtomicIntegerFieldUpdater.newUpdater(BodySubscription.class, "finished");

    private final Body body;
    private final EventExecutor executor;
    private final BodyReceiver receiver;
    private final long from;
    private final long to;
    private final int[] cursor = new int[1];
    private long pos; // executor thread only
    private volatile boolean paused;
    private volatile int scheduled;
    private volatile int finished;

    BodySubscription(Body body, EventExecutor executor, BodyReceiver receiver, long from, long to) {
        this.body = body;
        this.executor = executor;
        this.receiver = receiver;
        this.from = from;
        this.to = to;
        this.pos = from;
    }

    void start() {
        if (executor.inEventLoop()) {
            drain();
        } else {
            signal();
        }
    }

    /** More bytes, the seal or an abort: schedule a drain unless one is queued or the reader is paused. */
    void signal() {
        if (!paused && finished == 0 && SCHEDULED.compareAndSet(this, 0, 1)) {
            try {
                executor.execute(this::scheduledDrain);
            } catch (RejectedExecutionException e) {
                finish(); // the reader's event loop is gone, and its connection with it
            }
        }
    }

    private void scheduledDrain() {
        scheduled = 0;
        drain();
    }

    /** Continue after the receiver paused (its channel is writable again). Any thread. */
    public void resume() {
        paused = false;
        signal();
    }

    /** The reader gives up (its client went away): no more calls to the receiver; the reference is released. */
    public void cancel() {
        if (executor.inEventLoop()) {
            finish();
        } else {
            try {
                executor.execute(this::finish);
            } catch (RejectedExecutionException e) {
                finish();
            }
        }
    }

    /** Bytes delivered so far, counted from the range's start. Executor thread. */
    public long delivered() {
        return pos - from;
    }

    public boolean isDone() {
        return finished != 0;
    }

    private void drain() {
        if (finished != 0) {
            return;
        }
        boolean delivered = false;
        try {
            while (!paused) {
                int st = body.state(); // before the length: once SEALED is seen, the length read next is final
                if (st == Body.ABORTED) {
                    AbortReason reason = body.abortReason();
                    if (finish()) {
                        receiver.onAbort(reason, pos - from);
                    }
                    return;
                }
                long limit = Math.min(body.length(), to);
                if (pos < limit) {
                    ByteBuf slice = body.slice(pos, limit, cursor);
                    pos += slice.readableBytes();
                    delivered = true;
                    if (!receiver.onChunk(slice)) {
                        paused = true;
                    }
                    if (finished != 0) {
                        return; // cancelled from inside onChunk
                    }
                    continue;
                }
                if (st == Body.SEALED || pos >= to) {
                    if (finish()) {
                        receiver.onComplete();
                    }
                    return;
                }
                break; // caught up with the writer: the next append signals
            }
        } catch (RuntimeException | Error e) {
            finish();
            throw e;
        }
        if (delivered && finished == 0) {
            receiver.onBatchEnd();
        }
    }

    /** Ends the subscription once: unregisters and releases its reference. */
    private boolean finish() {
        if (FINISHED.compareAndSet(this, 0, 1)) {
            body.unregister(this);
            body.release();
            return true;
        }
        return false;
    }
}
