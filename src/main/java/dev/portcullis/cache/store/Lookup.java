package dev.portcullis.cache.store;

import java.util.concurrent.CompletableFuture;

/** What {@link CacheZone#lookup} found for a request. */
public sealed interface Lookup {
    /**
     * A stored response (fresh or not: the policy decides). The hit holds one reference on it: release it when
     * done (a {@link Body#subscribe subscription} takes its own, so the hit can be released right after).
     */
    record Hit(StoredResponse response) implements Lookup {}

    /** Nothing stored and nobody fetching it: this request goes upstream and fills (or declines) the entry. */
    record Lead(Fill fill) implements Lookup {}

    /**
     * Another request is fetching it: wait for its head. The future completes on the caller's executor, within
     * the timeout given to the lookup. Cancel it if the client goes away (a late outcome is then released).
     */
    record Follow(CompletableFuture<FollowOutcome> outcome) implements Lookup {}
}
