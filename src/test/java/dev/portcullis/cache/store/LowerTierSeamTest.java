package dev.portcullis.cache.store;

import static dev.portcullis.cache.store.StoreFixtures.WAIT;
import static dev.portcullis.cache.store.StoreFixtures.meta;
import static dev.portcullis.cache.store.StoreFixtures.on;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The zone's contract with its lower tiers (disk, shared): consulted on a memory miss while other requests follow,
 * written on every store, told of purges, closed with the zone. A fake tier that answers when the test says.
 */
class LowerTierSeamTest {
    private final MultiThreadIoEventLoopGroup group = StoreFixtures.loops(1);
    private final EventLoop loop = group.next();
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final FakeTier tier = new FakeTier();
    private final CacheZone zone = new CacheZone(new CacheZoneConfig("z", 1 << 20, null, 1 << 20),
            new ProxyMetrics().cache("z"), alloc, Runnable::run, List.of(tier));

    @AfterEach
    void close() {
        zone.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void aMemoryMissIsLookedUpInTheTierAndConcurrentRequestsFollowTheLoad() throws Exception {
        Lookup first = on(loop, () -> zone.lookup("/a", VariantKeys.NONE, loop, WAIT));
        assertThat(first).isInstanceOf(Lookup.Pending.class);
        Lookup second = on(loop, () -> zone.lookup("/a", VariantKeys.NONE, loop, WAIT));
        assertThat(second).isInstanceOf(Lookup.Follow.class);

        tier.answer("/a", stored("/a", "from the tier"));
        Lookup next = ((Lookup.Pending) first).next().get(10, TimeUnit.SECONDS);
        assertThat(next).isInstanceOf(Lookup.Hit.class);
        StoredResponse hit = ((Lookup.Hit) next).response();
        assertThat(text(hit)).isEqualTo("from the tier");
        hit.release();

        FollowOutcome out = ((Lookup.Follow) second).outcome().get(10, TimeUnit.SECONDS);
        assertThat(out).isInstanceOf(FollowOutcome.Attached.class);
        ((FollowOutcome.Attached) out).response().release();

        // now in memory: no second load, and not written back to the tier it came from
        Lookup again = on(loop, () -> zone.lookup("/a", VariantKeys.NONE, loop, WAIT));
        assertThat(again).isInstanceOf(Lookup.Hit.class);
        ((Lookup.Hit) again).response().release();
        assertThat(tier.loads).containsExactly("/a");
        assertThat(tier.stored).isEmpty();
    }

    @Test
    void absentInTheTierTheRequestLeadsAndWhatItStoresIsWrittenToTheTier() throws Exception {
        Lookup first = on(loop, () -> zone.lookup("/b", VariantKeys.NONE, loop, WAIT));
        tier.answer("/b", null);
        Lookup next = ((Lookup.Pending) first).next().get(10, TimeUnit.SECONDS);
        assertThat(next).isInstanceOf(Lookup.Lead.class);
        Fill fill = ((Lookup.Lead) next).fill();
        on(loop, () -> {
            fill.begin(meta("/b", ""), 5);
            ByteBuf b = Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII);
            fill.append(b);
            b.release();
            return fill.complete();
        });
        assertThat(tier.stored).containsExactly("/b");
    }

    @Test
    void aPurgeDuringTheLoadWinsAndReachesTheTier() throws Exception {
        Lookup first = on(loop, () -> zone.lookup("/c", VariantKeys.NONE, loop, WAIT));
        assertThat(zone.purgeKey("/c")).isZero();
        assertThat(tier.purged).containsExactly("/c");
        tier.answer("/c", stored("/c", "purged meanwhile"));
        Lookup next = ((Lookup.Pending) first).next().get(10, TimeUnit.SECONDS);
        assertThat(next).isInstanceOf(Lookup.Lead.class); // the loaded copy is dropped, not served
        ((Lookup.Lead) next).fill().abort(AbortReason.UPSTREAM_FAILED);
    }

    @Test
    void aFailingTierIsAMissAndClosingTheZoneClosesTheTier() throws Exception {
        Lookup first = on(loop, () -> zone.lookup("/d", VariantKeys.NONE, loop, WAIT));
        tier.fail("/d");
        Lookup next = ((Lookup.Pending) first).next().get(10, TimeUnit.SECONDS);
        assertThat(next).isInstanceOf(Lookup.Lead.class);
        ((Lookup.Lead) next).fill().abort(AbortReason.UPSTREAM_FAILED);
        zone.close();
        assertThat(tier.closed).isTrue();
    }

    private StoredResponse stored(String key, String body) {
        Body b = Body.open(alloc, body.length(), 1 << 20);
        ByteBuf src = Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII);
        b.append(src);
        src.release();
        b.seal();
        return StoredResponse.of(meta(key, ""), b);
    }

    private static String text(StoredResponse r) {
        StringBuilder sb = new StringBuilder();
        r.body().forEachChunk(c -> sb.append(c.toString(StandardCharsets.US_ASCII)));
        return sb.toString();
    }

    private static final class FakeTier implements LowerTier {
        final Map<String, CompletableFuture<StoredResponse>> pending = new ConcurrentHashMap<>();
        final List<String> loads = new CopyOnWriteArrayList<>();
        final List<String> stored = new CopyOnWriteArrayList<>();
        final List<String> purged = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        void answer(String key, StoredResponse r) {
            pending.get(key).complete(r);
        }

        void fail(String key) {
            pending.get(key).completeExceptionally(new java.io.IOException("disk on fire"));
        }

        @Override
        public String kind() {
            return "fake";
        }

        @Override
        public CompletableFuture<StoredResponse> load(String primaryKey, VariantKeys variants) {
            loads.add(primaryKey);
            return pending.computeIfAbsent(primaryKey, k -> new CompletableFuture<>());
        }

        @Override
        public void store(StoredResponse response) {
            stored.add(response.key().primary());
        }

        @Override
        public int purgeKey(String primaryKey) {
            purged.add(primaryKey);
            return 0;
        }

        @Override
        public int purgePrefix(String prefix) {
            return 0;
        }

        @Override
        public int purgeTag(String tag) {
            return 0;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
