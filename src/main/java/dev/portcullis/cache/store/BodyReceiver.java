package dev.portcullis.cache.store;

import io.netty.buffer.ByteBuf;

/**
 * Takes a stored or filling body, chunk by chunk, on the executor given to {@link Body#subscribe}. Every call for
 * one subscription comes from that executor, one at a time; exactly one of {@link #onComplete} and
 * {@link #onAbort} ends it, unless the subscription is cancelled (then neither).
 */
public interface BodyReceiver {
    /**
     * The next bytes, as a retained slice of the stored chunk (no copy): the receiver owns it and must release it
     * (writing it to a channel does).
     *
     * @return false to pause: nothing more comes until {@link BodySubscription#resume()} (call it when the
     *         channel is writable again)
     */
    boolean onChunk(ByteBuf chunk);

    /** Delivery stopped for now (caught up with the fill, or paused) after some chunks: a good moment to flush. */
    default void onBatchEnd() {}

    /** Every byte was delivered; the body (or the range asked for) is complete. */
    void onComplete();

    /**
     * The fill stopped before the end: the client must not see this as a complete response. The integration
     * resets the stream or closes the connection; when {@code bytesDelivered} is 0 and nothing was sent yet it may
     * go upstream instead.
     */
    void onAbort(AbortReason reason, long bytesDelivered);
}
