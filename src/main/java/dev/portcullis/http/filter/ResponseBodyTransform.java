package dev.portcullis.http.filter;

import io.netty.buffer.ByteBuf;

/**
 * Changes a response body on its way to the client, chunk by chunk, as nginx's body filters do: set on the
 * {@link dev.portcullis.http.Exchange} by a response filter when it sees the head, then driven by the response
 * writer for every body chunk, whether the body comes from an upstream or (later) from the cache. Compression is
 * the first user; the writer knows nothing about what the transform does.
 *
 * <p>Owned by one exchange on its event loop: no locking. Every method hands back a buffer the caller owns (empty
 * when nothing is ready yet, never null). Exactly one of {@link #finish} or {@link #abandon} ends it, and after
 * either the transform holds no buffer and no native memory.
 */
public interface ResponseBodyTransform {
    /**
     * One body chunk. The transform may keep bytes back (an encoder's window) until {@link #flush} or
     * {@link #finish}.
     *
     * @param in released by the transform, also when it throws
     */
    ByteBuf transform(ByteBuf in);

    /**
     * Everything the chunks so far can produce, so that the client can use it now: called once per read batch
     * (as the writer flushes the socket), which keeps streamed responses such as Server-Sent Events flowing.
     */
    ByteBuf flush();

    /** The body ended: the last bytes. Frees the transform's resources. */
    ByteBuf finish();

    /** The response will not complete (client gone, upstream broke, error): frees everything; idempotent. */
    void abandon();
}
