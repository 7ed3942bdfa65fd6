package dev.portcullis.cache.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.CacheStats;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code caches} zone's memory tier: stored responses by (primary key, variant key), bounded by bytes
 * (Caffeine's {@code maximumWeight}, W-TinyLFU admission), the fills in progress (collapsed forwarding) and the
 * purge indexes. Thread-safe; lookups take no lock (Caffeine's read path and two concurrent-map reads).
 *
 * <p>References: the cache holds one on each stored body, released when the entry leaves (evicted, replaced,
 * purged); readers hold their own, so a body removed while being served stays valid until its last reader is done.
 *
 * <p>The primary-key and tag indexes are kept in step by {@link #onRemoval}: every index entry maps to the exact
 * object it was made for, and is removed only if it still maps to it, so a late removal notice never drops the
 * entry of the object that replaced it.
 */
public final class CacheZone implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CacheZone.class);
    private final String name;
    private final long maxObjectSize;
    private final ByteBufAllocator alloc;
    private final CacheStats stats;
    private final Cache<CacheKey, StoredResponse> cache;
    private final ConcurrentMap<CacheKey, Fill> fills = new ConcurrentHashMap<>();
    private final PurgeIndex index = new PurgeIndex();
    /** Behind memory, in lookup order (disk, then shared); empty when the zone is memory only. */
    private final List<LowerTier> tiers;
    private volatile boolean closed;

    /** The zone with pooled direct chunks; Caffeine's upkeep (eviction, removal notices) on the calling thread. */
    public CacheZone(CacheZoneConfig config, CacheStats stats) {
        this(config, stats, PooledByteBufAllocator.DEFAULT, Runnable::run, List.of());
    }

    public CacheZone(CacheZoneConfig config, CacheStats stats, List<LowerTier> tiers) {
        this(config, stats, PooledByteBufAllocator.DEFAULT, Runnable::run, tiers);
    }

    public CacheZone(CacheZoneConfig config, CacheStats stats, ByteBufAllocator alloc, Executor maintenance) {
        this(config, stats, alloc, maintenance, List.of());
    }

    /**
     * @param maintenance where Caffeine evicts and sends removal notices. {@code Runnable::run} (the default) keeps
     *                    the byte bound exact after each insert and frees evicted memory at once, at the cost of
     *                    the inserting event loop doing that small amount of work
     * @param tiers       the lower tiers, in lookup order; the zone closes them
     */
    public CacheZone(CacheZoneConfig config, CacheStats stats, ByteBufAllocator alloc, Executor maintenance,
                     List<LowerTier> tiers) {
        this.tiers = List.copyOf(tiers);
        this.name = config.name();
        this.maxObjectSize = config.maxObjectSize();
        this.alloc = alloc;
        this.stats = stats;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(config.memoryBytes())
                .weigher((CacheKey k, StoredResponse v) -> v.weight())
                .executor(maintenance)
                .removalListener(this::onRemoval)
                .build();
        stats.bind(this, this::objects, this::bytes);
    }

    public String name() {
        return name;
    }

    /** Whether a memory miss is looked up further ({@link Lookup.Pending}). */
    public boolean hasLowerTiers() {
        return !tiers.isEmpty();
    }

    public long maxObjectSize() {
        return maxObjectSize;
    }

    ByteBufAllocator allocator() {
        return alloc;
    }

    public CacheStats stats() {
        return stats;
    }

    /**
     * Finds the response for a request, or decides who fetches it. Call on the request's event loop.
     *
     * @param variants    the request's variant key under the stored Vary
     * @param executor    the caller's event loop: a follower's outcome and timeout run there
     * @param waitTimeout how long a follower waits for the leader's head before it goes upstream itself
     */
    public Lookup lookup(String primaryKey, VariantKeys variants, EventExecutor executor, Duration waitTimeout) {
        CacheKey key = new CacheKey(primaryKey, variants.variantKey(index.vary(primaryKey)));
        StoredResponse hit = hit(key);
        if (hit != null) {
            return new Lookup.Hit(hit);
        }
        Fill existing = fills.get(key);
        if (existing == null) {
            Fill mine = new Fill(this, key, null);
            existing = fills.putIfAbsent(key, mine);
            if (existing == null) {
                // a fill that completed between our miss and our putIfAbsent stored its object before it left the
                // table: look once more, so a finished fetch is never repeated
                hit = hit(key);
                if (hit != null) {
                    mine.discard(hit); // followers that found it meanwhile get the stored object
                    return new Lookup.Hit(hit);
                }
                if (tiers.isEmpty()) {
                    return new Lookup.Lead(mine, index.has(primaryKey));
                }
                CompletableFuture<Lookup> next = new CompletableFuture<>();
                loadFromTier(0, primaryKey, variants, executor, mine, next);
                return new Lookup.Pending(next);
            }
        }
        return new Lookup.Follow(existing.follow(executor, variants, waitTimeout));
    }

    /**
     * Asks tier {@code i} (then the next ones) for the object while {@code mine} stands in the fill table, so that
     * other requests for it follow instead of loading it again. Ends on {@code executor}.
     */
    private void loadFromTier(int i, String primaryKey, VariantKeys variants, EventExecutor executor, Fill mine,
                              CompletableFuture<Lookup> next) {
        CompletableFuture<StoredResponse> load;
        try {
            load = tiers.get(i).load(primaryKey, variants);
        } catch (RuntimeException e) {
            load = CompletableFuture.failedFuture(e);
        }
        load.whenComplete((found, err) -> {
            try {
                executor.execute(() -> loaded(i, primaryKey, variants, executor, mine, next, found, err));
            } catch (RejectedExecutionException e) {
                if (found != null) {
                    found.release();
                }
                mine.abort(AbortReason.UPSTREAM_FAILED);
                next.completeExceptionally(e);
            }
        });
    }

    private void loaded(int i, String primaryKey, VariantKeys variants, EventExecutor executor, Fill mine,
                        CompletableFuture<Lookup> next, StoredResponse found, Throwable err) {
        if (err != null) {
            log.warn("cache zone {}: the {} tier failed a lookup ({}); treating it as a miss", name,
                    tiers.get(i).kind(), err.toString());
        }
        if (found != null && (closed || mine.isDoomed())) {
            found.release(); // purged (or dropped) while it loaded: a purge must win
            found = null;
        }
        if (found != null && !storeLoaded(found, i, mine)) {
            found.release(); // a purge (or close) came while it was put in memory
            found = null;
        }
        if (found != null) {
            mine.discard(found); // followers that came meanwhile get it (or go upstream if their variant differs)
            next.complete(new Lookup.Hit(found));
        } else if (i + 1 < tiers.size() && !closed && !mine.isDoomed()) {
            loadFromTier(i + 1, primaryKey, variants, executor, mine, next);
        } else {
            next.complete(new Lookup.Lead(mine, index.has(primaryKey)));
        }
    }

    /**
     * An object a lower tier had: into memory, and into the tiers above the one it came from. As {@link #store}: a
     * purge dooms the fill before it scans the indexes, so after the insert either the purge found it or we see
     * the doom now and take it out again.
     *
     * @return false when a purge or a close came first (nothing stays)
     */
    private boolean storeLoaded(StoredResponse s, int fromTier, Fill fill) {
        s.retain(); // the cache's reference, released by onRemoval
        cache.asMap().compute(s.key(), (k, cur) -> {
            index.add(s);
            return s;
        });
        if (fill.isDoomed() || closed) {
            cache.asMap().remove(s.key(), s); // its removal notice releases the cache's reference
            return false;
        }
        for (int t = 0; t < fromTier; t++) {
            tiers.get(t).store(s);
        }
        return true;
    }

    /**
     * Starts the one background refresh of a stored response (stale-while-revalidate), unless a fetch for its key
     * is already under way. The caller keeps its own reference on {@code stale}.
     *
     * @return the refresh's fill, or empty when another fetch of that key is in progress
     */
    public Optional<Fill> startRefresh(StoredResponse stale) {
        Fill fill = new Fill(this, stale.key(), stale.retain());
        if (closed || fills.putIfAbsent(stale.key(), fill) != null) {
            stale.release();
            return Optional.empty();
        }
        return Optional.of(fill);
    }

    /**
     * A stored response must be revalidated before it is served: the first request leads the conditional
     * request, the others follow it (and get the freshened or new response). The caller keeps its own reference.
     */
    public Lookup revalidate(StoredResponse stale, VariantKeys variants, EventExecutor executor, Duration waitTimeout) {
        Fill mine = new Fill(this, stale.key(), stale.retain());
        Fill existing = closed ? null : fills.putIfAbsent(stale.key(), mine);
        if (existing == null) {
            return new Lookup.Lead(mine);
        }
        stale.release();
        return new Lookup.Follow(existing.follow(executor, variants, waitTimeout));
    }

    private StoredResponse hit(CacheKey key) {
        StoredResponse s = cache.getIfPresent(key);
        // an eviction may free it between the two calls: then it is a miss
        return s != null && s.body().tryRetain() ? s : null;
    }

    // ---- fills store through these ----

    /** Inserts a complete response; false when a purge matched its fill meanwhile (then nothing stays). */
    boolean store(StoredResponse s, Fill fill) {
        if (closed) {
            return false;
        }
        s.retain(); // the cache's reference, released by onRemoval
        // indexed inside the entry's compute: no removal notice for s can come before its index entries exist
        cache.asMap().compute(s.key(), (k, cur) -> {
            index.add(s);
            return s;
        });
        // a purge dooms fills before it scans the indexes: it either found s there, or we see the doom now
        if (fill.isDoomed() || closed) {
            cache.asMap().remove(s.key(), s);
            return false;
        }
        for (LowerTier t : tiers) {
            t.store(s);
        }
        return true;
    }

    /**
     * After a 304: the freshened response takes the stale one's place, sharing its body, only while the stale one
     * is still stored (gone means evicted or purged, and a purge must win; replaced means a newer one is there).
     */
    boolean replace(StoredResponse stale, StoredResponse fresh, Fill fill) {
        if (closed) {
            return false;
        }
        fresh.retain();
        boolean[] installed = {false};
        cache.asMap().compute(fresh.key(), (k, cur) -> {
            if (cur != stale) {
                return cur; // gone or newer: leave it (the same instance back: no removal notice)
            }
            index.add(fresh);
            installed[0] = true;
            return fresh;
        });
        if (!installed[0]) {
            fresh.release();
            return false;
        }
        if (fill.isDoomed() || closed) {
            cache.asMap().remove(fresh.key(), fresh);
            return false;
        }
        for (LowerTier t : tiers) {
            t.store(fresh);
        }
        return true;
    }

    /** Removes exactly this object (not a newer one stored under its key), here and, by its primary key, below. */
    void remove(StoredResponse s) {
        cache.asMap().remove(s.key(), s);
        for (LowerTier t : tiers) {
            t.purgeKey(s.key().primary());
        }
    }

    void fillEnded(Fill fill) {
        fills.remove(fill.key(), fill);
    }

    private void onRemoval(CacheKey key, StoredResponse value, RemovalCause cause) {
        if (value == null) {
            return;
        }
        index.remove(value);
        if (cause == RemovalCause.SIZE) {
            stats.evicted();
        }
        value.release();
    }

    // ---- purge ----

    /** Removes every variant stored for the primary key, and keeps fills of it from storing. */
    public int purgeKey(String primaryKey) {
        dooming(f -> f.key().primary().equals(primaryKey));
        int n = purged(index.byPrimaryKey(primaryKey));
        for (LowerTier t : tiers) {
            n = Math.max(n, t.purgeKey(primaryKey)); // an object is usually in several tiers: count it once
        }
        return n;
    }

    /** Removes every object whose primary key starts with {@code prefix}, and keeps such fills from storing. */
    public int purgePrefix(String prefix) {
        dooming(f -> f.key().primary().startsWith(prefix));
        int n = purged(index.byPrefix(prefix));
        for (LowerTier t : tiers) {
            n = Math.max(n, t.purgePrefix(prefix));
        }
        return n;
    }

    /**
     * Removes every object tagged {@code tag} ({@code Surrogate-Key}, {@code Cache-Tag}). Fills whose head has
     * not arrived yet cannot be told apart: they are kept from storing too (they still serve their followers).
     */
    public int purgeTag(String tag) {
        dooming(f -> f.mayCarryTag(tag));
        int n = purged(index.byTag(tag));
        for (LowerTier t : tiers) {
            n = Math.max(n, t.purgeTag(tag));
        }
        return n;
    }

    private void dooming(Predicate<Fill> match) {
        for (Fill f : fills.values()) {
            if (match.test(f)) {
                f.doom();
                fills.remove(f.key(), f); // the next request fetches anew; followers attached already carry on
            }
        }
    }

    private int purged(List<StoredResponse> found) {
        int n = 0;
        for (StoredResponse s : found) {
            if (cache.asMap().remove(s.key(), s)) {
                n++;
            }
        }
        stats.purged(n);
        return n;
    }

    // ---- sizes ----

    /** Objects stored now (Caffeine's estimate: exact once {@link #cleanUp()} ran). */
    public long objects() {
        return cache.estimatedSize();
    }

    /** Bytes stored now, as weighed: chunk memory plus metadata. */
    public long bytes() {
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Fills in progress (for tests and the admin API). */
    public int fillsInProgress() {
        return fills.size();
    }

    /** Runs Caffeine's pending upkeep now (evictions, removal notices). */
    public void cleanUp() {
        cache.cleanUp();
    }

    /** Snapshot of the stored keys (admin, tests); not for the request path. */
    public List<CacheKey> keys() {
        return new ArrayList<>(cache.asMap().keySet());
    }

    /** The stored response for an exact key, retained (tests, admin); null when absent. */
    public StoredResponse peek(CacheKey key) {
        return hit(key);
    }

    /** A reload dropped the zone: everything stored is released (readers keep theirs); fills no longer store. */
    @Override
    public void close() {
        closed = true;
        dooming(f -> true);
        cache.invalidateAll();
        cache.cleanUp();
        for (LowerTier t : tiers) {
            try {
                t.close();
            } catch (RuntimeException e) {
                log.warn("cache zone {}: closing its {} tier failed: {}", name, t.kind(), e.toString());
            }
        }
        stats.unbind(this);
    }

    PurgeIndex index() {
        return index;
    }
}
