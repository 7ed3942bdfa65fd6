package dev.portcullis.cache.store;

/** Why a body stopped before its end; what a reader attached to a fill is told in {@link BodyReceiver#onAbort}. */
public enum AbortReason {
    /** The body passed the zone's {@code max_object_size} while it was being stored. */
    TOO_LARGE,
    /** The leader's upstream exchange failed mid-body (reset, timeout, broken framing). */
    UPSTREAM_FAILED,
    /** No direct memory for the next chunk. */
    OUT_OF_MEMORY
}
