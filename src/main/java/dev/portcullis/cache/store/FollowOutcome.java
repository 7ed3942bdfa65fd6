package dev.portcullis.cache.store;

/** What a follower learns once the leader's head arrived (or it stopped waiting). */
public sealed interface FollowOutcome {
    /**
     * The leader's response will be stored (or was just freshened): stream it from the store. The body may still
     * be filling; subscribe to get what is there and then each chunk as it arrives. Holds one reference: release
     * it when done (after subscribing is fine).
     */
    record Attached(StoredResponse response) implements FollowOutcome {}

    /** This request must go upstream itself, without the cache's help. */
    record GoUpstream(Reason reason) implements FollowOutcome {}

    enum Reason {
        /** The leader's response may not be stored (the policy said so). */
        UNCACHEABLE,
        /** The response is larger than max_object_size (by Content-Length, or it passed it before we attached). */
        TOO_LARGE,
        /** The leader's upstream exchange failed, or its body was cut off before we attached. */
        LEADER_FAILED,
        /** No head from the leader within the follower's wait timeout. */
        TIMEOUT,
        /** The response varies (Vary) and this request selects another variant. */
        VARIANT_MISMATCH
    }
}
