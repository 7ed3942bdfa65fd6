package dev.portcullis.cache.store;

import java.util.concurrent.CompletableFuture;

/** What {@link CacheZone#lookup} found for a request. */
public sealed interface Lookup {
    /**
     * A stored response (fresh or not: the policy decides). The hit holds one reference on it: release it when
     * done (a {@link Body#subscribe subscription} takes its own, so the hit can be released right after).
     */
    record Hit(StoredResponse response) implements Lookup {}

    /**
     * Nothing stored and nobody fetching it: this request goes upstream and fills (or declines) the entry.
     *
     * @param otherVariants responses for the same primary key are stored, none for this request's variant (a
     *                      {@code vary-miss} in Cache-Status; else a {@code uri-miss})
     */
    record Lead(Fill fill, boolean otherVariants) implements Lookup {
        public Lead(Fill fill) {
            this(fill, false);
        }
    }

    /**
     * Another request is fetching it: wait for its head. The future completes on the caller's executor, within
     * the timeout given to the lookup. Cancel it if the client goes away (a late outcome is then released).
     */
    record Follow(CompletableFuture<FollowOutcome> outcome) implements Lookup {}

    /**
     * Missing in memory, being looked up in the zone's lower tiers ({@link LowerTier}): completes on the caller's
     * executor with a {@link Hit} (loaded, and now in memory too) or a {@link Lead} (nowhere: go upstream). Other
     * requests for the key follow meanwhile. When the caller is gone by then it must still end what it got:
     * release the hit, or end the lead's fill ({@link Fill#abort}).
     */
    record Pending(CompletableFuture<Lookup> next) implements Lookup {}
}
