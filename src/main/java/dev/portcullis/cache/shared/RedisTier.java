package dev.portcullis.cache.shared;

import dev.portcullis.cache.store.LowerTier;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.RedisStats;
import dev.portcullis.redis.RateLimitedLog;
import dev.portcullis.redis.RedisClients;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A zone's shared tier ({@code shared: redis}): objects every instance with the same {@code redis} can serve. Key
 * layout in {@link SharedKeys}, values in {@link ObjectCodec}, lifetimes in {@link SharedTtl}.
 *
 * <p>Never in a request's way: every command is lettuce's async API; a lookup that fails or times out (Redis down,
 * slow, not yet connected) is a miss, counted and warned about at most every 30 s; a store that cannot be made is
 * skipped. Lookups take one round trip for a URL that does not vary (the index's Vary and the object are asked for
 * together) and two for one that does.
 *
 * <p>Purges run in Redis in the background; they return 0 at once (the zone counts what its memory tier removed).
 * A prefix purge scans the zone's indexes ({@code SCAN MATCH}, 500 keys a step) rather than keeping a global
 * sorted index that every store would have to update.
 */
public final class RedisTier implements LowerTier {
    private static final Logger log = LoggerFactory.getLogger(RedisTier.class);
    /** Encoded objects on their way to Redis, at most (bytes): past it stores are skipped, memory stays bounded. */
    static final long MAX_PENDING_BYTES = 32L << 20;
    /** Tag-set members are dropped this long after their object expired (clocks of instances may differ a little). */
    static final long TAG_PRUNE_MARGIN_MILLIS = Duration.ofMinutes(10).toMillis();
    private static final ThreadLocal<Boolean> REMOTE = new ThreadLocal<>();

    private final String zone;
    private final long maxObjectSize;
    private final RedisClients redis;
    private final RedisStats.SharedTier stats;
    private final SharedKeys keys;
    private final ByteBufAllocator alloc;
    private final RateLimitedLog corruptLog = new RateLimitedLog(log, Duration.ofSeconds(30));
    private final AtomicLong pendingBytes = new AtomicLong();
    private volatile boolean closed;

    public RedisTier(CacheZoneConfig zone, RedisClients redis) {
        this(zone, redis, PooledByteBufAllocator.DEFAULT);
    }

    public RedisTier(CacheZoneConfig zone, RedisClients redis, ByteBufAllocator alloc) {
        if (zone.shared() == null) {
            throw new IllegalArgumentException("zone " + zone.name() + " has no shared tier");
        }
        this.zone = zone.name();
        this.maxObjectSize = zone.shared().maxObjectSize();
        this.redis = redis;
        this.stats = redis.stats().tier(zone.name());
        this.keys = new SharedKeys(zone.name());
        this.alloc = alloc;
    }

    /**
     * Runs a purge that another instance already made in Redis (purge broadcast): the zone's memory and local tiers
     * are purged, the shared tier is not purged a second time by every instance that hears of it.
     */
    public static <T> T applyingRemotePurge(Supplier<T> purge) {
        REMOTE.set(Boolean.TRUE);
        try {
            return purge.get();
        } finally {
            REMOTE.remove();
        }
    }

    @Override
    public String kind() {
        return "redis";
    }

    // ---- lookups ----

    @Override
    public CompletableFuture<StoredResponse> load(String primaryKey, VariantKeys variants) {
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (c == null || closed) {
            stats.lookupError();
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<StoredResponse> result = new CompletableFuture<>();
        try {
            String guess = variants.variantKey("");
            // asked together: for a URL that does not vary, the object comes in the same round trip as its Vary
            CompletableFuture<byte[]> vary = c.hget(keys.index(primaryKey), "v:" + primaryKey).toCompletableFuture();
            CompletableFuture<byte[]> object = c.get(keys.object(primaryKey, guess)).toCompletableFuture();
            vary.thenAcceptBoth(object, (v, o) -> {
                if (v == null) {
                    miss(result); // not indexed (never stored, purged, expired): whatever else is there is unusable
                    return;
                }
                String vk = variants.variantKey(new String(v, StandardCharsets.UTF_8));
                if (vk.equals(guess)) {
                    found(result, o, primaryKey, vk);
                } else {
                    c.get(keys.object(primaryKey, vk)).whenComplete((o2, err) -> {
                        if (err != null) {
                            lookupFailed(result, err);
                        } else {
                            found(result, o2, primaryKey, vk);
                        }
                    });
                }
            }).exceptionally(err -> {
                lookupFailed(result, err);
                return null;
            });
        } catch (RuntimeException e) { // refused at once (queue full, closing)
            lookupFailed(result, e);
        }
        return result;
    }

    private void miss(CompletableFuture<StoredResponse> result) {
        stats.miss();
        result.complete(null);
    }

    private void lookupFailed(CompletableFuture<StoredResponse> result, Throwable err) {
        stats.lookupError();
        redis.failed("load", err);
        result.complete(null);
    }

    private void found(CompletableFuture<StoredResponse> result, byte[] value, String primaryKey, String variantKey) {
        if (value == null) {
            miss(result);
            return;
        }
        StoredResponse r;
        try {
            r = ObjectCodec.decode(value, primaryKey, variantKey, alloc);
        } catch (ObjectCodec.Corrupt e) {
            stats.corrupt();
            String key = keys.object(primaryKey, variantKey);
            corruptLog.warn("cache zone {}: the shared tier's object {} for {} is unusable ({}); dropped it and "
                    + "treated it as a miss", zone, key, primaryKey, e.getMessage());
            RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
            if (c != null) {
                c.del(key).exceptionally(err -> {
                    redis.failed("purge", err);
                    return null;
                });
            }
            result.complete(null);
            return;
        }
        stats.hit();
        if (!result.complete(r)) {
            r.release();
        }
    }

    // ---- stores ----

    @Override
    public void store(StoredResponse response) {
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (closed || c == null) {
            stats.storeError();
            return;
        }
        if (response.bodyLength() > maxObjectSize || !response.body().isSealed()) {
            stats.tooLarge();
            return;
        }
        long size = ObjectCodec.FRAME + ObjectCodec.metaSize(response.meta()) + response.bodyLength();
        if (pendingBytes.addAndGet(size) > MAX_PENDING_BYTES) {
            pendingBytes.addAndGet(-size);
            stats.backlog();
            redis.failed("store", new IllegalStateException("more than " + (MAX_PENDING_BYTES >> 20)
                    + " MiB of objects waiting for Redis"));
            return;
        }
        byte[] value;
        try {
            // our own reference while copying: an eviction on another thread may release the cache's meanwhile
            response.retain();
        } catch (RuntimeException e) {
            pendingBytes.addAndGet(-size);
            return; // already freed: gone from every tier above, nothing to share
        }
        try {
            value = ObjectCodec.encode(response);
        } finally {
            response.release();
        }
        var meta = response.meta();
        long now = System.currentTimeMillis();
        long ttl = SharedTtl.millis(meta, now);
        String pk = meta.primaryKey();
        String objectKey = keys.object(pk, meta.variantKey());
        try {
            CompletableFuture<Object> stored = c.eval(RedisScripts.STORE, ScriptOutputType.INTEGER,
                    new String[] {keys.index(pk), objectKey},
                    value, bytes(Long.toString(ttl)), bytes("v:" + pk), bytes(meta.vary()),
                    bytes("o:" + SharedKeys.objectHash(pk, meta.variantKey())), bytes(pk),
                    bytes(keys.objectPrefix(pk))).toCompletableFuture();
            stored.whenComplete((ok, err) -> {
                pendingBytes.addAndGet(-size);
                if (err != null) {
                    stats.storeError();
                    redis.failed("store", err);
                } else {
                    stats.stored();
                }
            });
            long expires = now + ttl;
            for (String tag : meta.tags()) {
                c.eval(RedisScripts.TAG, ScriptOutputType.INTEGER, new String[] {keys.tag(tag)},
                        bytes(objectKey), bytes(Long.toString(expires)),
                        bytes(Long.toString(now - TAG_PRUNE_MARGIN_MILLIS)),
                        bytes(Long.toString(SharedTtl.CAP.toMillis() + TAG_PRUNE_MARGIN_MILLIS)))
                        .exceptionally(err -> {
                            redis.failed("store", err);
                            return null;
                        });
            }
        } catch (RuntimeException e) {
            pendingBytes.addAndGet(-size);
            stats.storeError();
            redis.failed("store", e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- purges ----

    @Override
    public int purgeKey(String primaryKey) {
        if (!remotePurge()) {
            purgeIndex(keys.index(primaryKey), keys.objectPrefix(primaryKey), "key", primaryKey);
        }
        return 0;
    }

    @Override
    public int purgePrefix(String prefix) {
        if (remotePurge()) {
            return 0;
        }
        if (prefix.indexOf('\n') >= 0) {
            // a URL's key extensions: they all live in that URL's index
            purgeIndex(keys.index(prefix), keys.objectPrefix(prefix), "prefix", prefix);
            return 0;
        }
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (c == null) {
            redis.failed("purge", new IllegalStateException("not connected to Redis yet"));
            return 0;
        }
        ScanArgs args = ScanArgs.Builder.matches(keys.indexPattern(prefix)).limit(500);
        scan(c, ScanCursor.INITIAL, args, prefix);
        return 0;
    }

    /** One SCAN step, then the next, until the cursor is finished; every index found is purged by prefix. */
    private void scan(RedisClusterAsyncCommands<String, byte[]> c, ScanCursor cursor, ScanArgs args, String prefix) {
        try {
            c.scan(cursor, args).whenComplete((KeyScanCursor<String> page, Throwable err) -> {
                if (err != null) {
                    redis.failed("purge", err);
                    return;
                }
                for (String index : page.getKeys()) {
                    String base = index.substring(index.indexOf("}i:") + 3);
                    purgeIndex(index, keys.objectPrefix(base), "prefix", prefix);
                }
                if (!page.isFinished() && !redis.isClosed()) {
                    scan(c, page, args, prefix);
                }
            });
        } catch (RuntimeException e) {
            redis.failed("purge", e);
        }
    }

    private void purgeIndex(String index, String objectPrefix, String mode, String value) {
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (c == null) {
            redis.failed("purge", new IllegalStateException("not connected to Redis yet"));
            return;
        }
        try {
            c.eval(RedisScripts.PURGE, ScriptOutputType.INTEGER, new String[] {index}, bytes(objectPrefix),
                    bytes(mode), bytes(value)).whenComplete((n, err) -> {
                        if (err != null) {
                            redis.failed("purge", err);
                        } else {
                            log.debug("cache zone {}: purged {} object(s) from the shared tier ({} {})", zone, n,
                                    mode, value);
                        }
                    });
        } catch (RuntimeException e) {
            redis.failed("purge", e);
        }
    }

    @Override
    public int purgeTag(String tag) {
        if (remotePurge()) {
            return 0;
        }
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (c == null) {
            redis.failed("purge", new IllegalStateException("not connected to Redis yet"));
            return 0;
        }
        popTagged(c, keys.tag(tag));
        return 0;
    }

    /** Takes the tag set's members 500 at a time and deletes their objects, until the set is empty. */
    private void popTagged(RedisClusterAsyncCommands<String, byte[]> c, String tagKey) {
        try {
            c.zpopmin(tagKey, 500).whenComplete((List<ScoredValue<byte[]>> batch, Throwable err) -> {
                if (err != null) {
                    redis.failed("purge", err);
                    return;
                }
                if (batch.isEmpty()) {
                    return;
                }
                String[] objects = batch.stream().map(v -> new String(v.getValue(), StandardCharsets.UTF_8))
                        .toArray(String[]::new);
                c.del(objects).whenComplete((n, e2) -> {
                    if (e2 != null) {
                        redis.failed("purge", e2);
                    } else if (batch.size() == 500 && !redis.isClosed()) {
                        popTagged(c, tagKey);
                    }
                });
            });
        } catch (RuntimeException e) {
            redis.failed("purge", e);
        }
    }

    private static boolean remotePurge() {
        return REMOTE.get() != null;
    }

    /** Writes in flight finish on their own; nothing new starts. The client belongs to the process, not to us. */
    @Override
    public void close() {
        closed = true;
    }

    long pendingBytes() {
        return pendingBytes.get();
    }

    @Override
    public String toString() {
        return "RedisTier(" + zone + ")";
    }
}
