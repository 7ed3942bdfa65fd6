package dev.portcullis.cache.store;

import static dev.portcullis.cache.store.StoreFixtures.appendPart;
import static dev.portcullis.cache.store.StoreFixtures.assertLiveReturnsTo;
import static dev.portcullis.cache.store.StoreFixtures.await;
import static dev.portcullis.cache.store.StoreFixtures.live;
import static dev.portcullis.cache.store.StoreFixtures.meta;
import static dev.portcullis.cache.store.StoreFixtures.on;
import static dev.portcullis.cache.store.StoreFixtures.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.cache.store.StoreFixtures.Collector;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The memory tier: storing, bounds, variants, freshening, purges, refreshes, on real event loops. */
class CacheZoneTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private EventLoop other;
    private PooledByteBufAllocator alloc;
    private ProxyMetrics metrics;
    private CacheZone zone;

    @BeforeEach
    void setUp() {
        group = StoreFixtures.loops(2);
        loop = group.next();
        other = group.next();
        alloc = StoreFixtures.exactAllocator();
        metrics = new ProxyMetrics();
        zone = StoreFixtures.zone("z", 1 << 20, 256 << 10, alloc, metrics);
    }

    @AfterEach
    void tearDown() throws Exception {
        zone.close();
        assertLiveReturnsTo(alloc, 0); // every chunk went back to the pool
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Leads and fills {@code key} with {@code body} in parts of {@code part} bytes; returns whether it was stored. */
    private boolean fill(String key, String vk, byte[] body, int part, String... headers) throws Exception {
        return on(loop, () -> {
            Lookup l = zone.lookup(key, v -> vk, loop, WAIT);
            assertThat(l).isInstanceOf(Lookup.Lead.class);
            Fill f = ((Lookup.Lead) l).fill();
            ResponseMeta m = meta(key, vk, headers);
            if (!f.begin(m, -1)) {
                return false;
            }
            for (int i = 0; i < body.length; i += part) {
                if (!appendPart(f, alloc, body, i, Math.min(body.length, i + part))) {
                    return false;
                }
            }
            return f.complete();
        });
    }

    /** Reads a hit on the other loop, releasing it, and returns its bytes. */
    private byte[] read(StoredResponse hit) throws Exception {
        Collector c = new Collector();
        on(other, () -> hit.body().subscribe(other, c));
        hit.release();
        return await(c.done);
    }

    private Lookup lookup(String key, String vk) throws Exception {
        return on(loop, () -> zone.lookup(key, v -> vk, loop, WAIT));
    }

    private StoredResponse hit(String key, String vk) throws Exception {
        Lookup l = lookup(key, vk);
        assertThat(l).as("lookup of " + key).isInstanceOf(Lookup.Hit.class);
        return ((Lookup.Hit) l).response();
    }

    @Test
    void aFilledResponseIsServedFromTheSameChunksToEveryReader() throws Exception {
        byte[] body = pattern("a", 150_000);
        assertThat(fill("https://h/a", "", body, 8192, "Content-Type", "text/plain", "Set-Cookie", "x=1",
                "Set-Cookie", "y=2")).isTrue();
        long stored = live(alloc);

        StoredResponse h = hit("https://h/a", "");
        assertThat(h.meta().headers().all("set-cookie")).containsExactly("x=1", "y=2");
        assertThat(h.bodyLength()).isEqualTo(150_000);
        assertThat(read(h)).isEqualTo(body);
        assertThat(read(hit("https://h/a", ""))).isEqualTo(body);
        // reading allocated nothing that stayed: slices of the stored chunks, not copies
        assertThat(live(alloc)).isEqualTo(stored);
        assertThat(zone.objects()).isEqualTo(1);
    }

    @Test
    void aRangeIsReadFromTheStoredChunksAcrossTheirBoundaries() throws Exception {
        byte[] body = pattern("r", 200_000);
        fill("https://h/r", "", body, 30_000);
        StoredResponse h = hit("https://h/r", "");
        Collector c = new Collector();
        on(other, () -> h.body().subscribe(other, c, 65_000, 140_001));
        h.release();
        byte[] expected = java.util.Arrays.copyOfRange(body, 65_000, 140_001);
        assertThat(await(c.done)).isEqualTo(expected);
    }

    @Test
    void theMemoryTierStaysWithinItsBytesAndFreesWhatItEvicts() throws Exception {
        zone.close();
        zone = StoreFixtures.zone("small", 256 << 10, 64 << 10, alloc, metrics);
        for (int i = 0; i < 60; i++) {
            fill("https://h/" + i, "", pattern("e" + i, 16_000), 16_000);
        }
        zone.cleanUp();
        assertThat(zone.bytes()).isLessThanOrEqualTo(256 << 10).isGreaterThan(100 << 10);
        assertThat(zone.objects()).isLessThan(60).isGreaterThan(5);
        assertThat(metrics.cache("small").count("evictions")).isGreaterThanOrEqualTo(60 - zone.objects());
        // one chunk per object (16 000 bytes fit one chunk): what is not stored went back to the pool
        assertThat(live(alloc)).isEqualTo(zone.objects());
        // and what is stored is intact
        for (CacheKey k : zone.keys()) {
            StoredResponse s = zone.peek(k);
            String n = k.primary().substring("https://h/".length());
            assertThat(read(s)).isEqualTo(pattern("e" + n, 16_000));
        }
        assertThat(zone.index().primaryCount()).isEqualTo((int) zone.objects());
    }

    @Test
    void anObjectOverMaxObjectSizeIsNeverStored() throws Exception {
        // by Content-Length: begin says no
        boolean began = on(loop, () -> {
            Fill f = ((Lookup.Lead) zone.lookup("https://h/big", VariantKeys.NONE, loop, WAIT)).fill();
            return f.begin(meta("https://h/big", ""), 300 << 10);
        });
        assertThat(began).isFalse();
        assertThat(zone.fillsInProgress()).isZero();
        // without one: storing stops when the body passes it
        assertThat(fill("https://h/big2", "", pattern("b", 300 << 10), 16_384)).isFalse();
        assertThat(zone.objects()).isZero();
        Lookup next = lookup("https://h/big2", "");
        assertThat(next).isInstanceOf(Lookup.Lead.class);
        on(loop, () -> {
            ((Lookup.Lead) next).fill().uncacheable();
            return null;
        });
    }

    @Test
    void variantsOfOnePrimaryKeyAreFoundByTheRequestsVariantKey() throws Exception {
        // the integration's function: the request's Accept-Encoding when the stored Vary names it
        assertThat(fill("https://h/v", "ae=gzip", "gzip body".getBytes(StandardCharsets.UTF_8), 100,
                "Vary", "Accept-Encoding")).isTrue();
        assertThat(fill("https://h/v", "ae=br", "br body".getBytes(StandardCharsets.UTF_8), 100,
                "Vary", "Accept-Encoding")).isTrue();
        List<String> varies = new ArrayList<>();
        Lookup l = on(loop, () -> zone.lookup("https://h/v", v -> {
            varies.add(v);
            return "ae=br";
        }, loop, WAIT));
        assertThat(varies).containsExactly("Accept-Encoding");
        assertThat(new String(read(((Lookup.Hit) l).response()), StandardCharsets.UTF_8)).isEqualTo("br body");
        assertThat(new String(read(hit("https://h/v", "ae=gzip")), StandardCharsets.UTF_8)).isEqualTo("gzip body");
        Lookup third = lookup("https://h/v", "ae=identity");
        assertThat(third).isInstanceOf(Lookup.Lead.class);
        on(loop, () -> {
            ((Lookup.Lead) third).fill().uncacheable();
            return null;
        });
        // a purge by URL takes every variant
        assertThat(zone.purgeKey("https://h/v")).isEqualTo(2);
        assertThat(zone.index().primaryCount()).isZero();
    }

    @Test
    void aRevalidationReplacesTheMetadataAndKeepsTheSameBody() throws Exception {
        byte[] body = pattern("f", 100_000);
        fill("https://h/f", "", body, 8192, "ETag", "\"1\"", "Cache-Control", "max-age=1");
        long before = live(alloc);
        StoredResponse stale = hit("https://h/f", "");
        Lookup l = on(loop, () -> zone.revalidate(stale, VariantKeys.NONE, loop, WAIT));
        assertThat(l).isInstanceOf(Lookup.Lead.class);
        Fill f = ((Lookup.Lead) l).fill();
        assertThat(f.stale()).isSameAs(stale);
        // a second request that must revalidate follows the first
        Lookup second = on(other, () -> zone.revalidate(stale, VariantKeys.NONE, other, WAIT));
        assertThat(second).isInstanceOf(Lookup.Follow.class);

        HeaderList merged = stale.meta().headers().replacing(HeaderList.of("Cache-Control", "max-age=60", "Date", "now"));
        StoredResponse fresh = on(loop, () -> f.freshen(stale.meta().freshened(merged, 5000, 5001)));
        StoredResponse h = hit("https://h/f", "");
        assertThat(h).isSameAs(fresh);
        assertThat(h.meta().headers().get("cache-control")).isEqualTo("max-age=60");
        assertThat(h.meta().headers().get("etag")).isEqualTo("\"1\"");
        assertThat(h.meta().responseTimeMillis()).isEqualTo(5001);
        assertThat(h.body()).isSameAs(stale.body()); // no copy
        assertThat(live(alloc)).isEqualTo(before);
        FollowOutcome fo = ((Lookup.Follow) second).outcome().get();
        assertThat(fo).isInstanceOf(FollowOutcome.Attached.class);
        assertThat(((FollowOutcome.Attached) fo).response()).isSameAs(fresh);
        assertThat(read(((FollowOutcome.Attached) fo).response())).isEqualTo(body);
        // the stale reader's lease still reads the bytes
        assertThat(read(stale)).isEqualTo(body);
        assertThat(read(h)).isEqualTo(body);
        assertThat(zone.objects()).isEqualTo(1);
    }

    @Test
    void aRevalidationDoesNotBringBackAPurgedObject() throws Exception {
        byte[] body = pattern("g", 3000);
        fill("https://h/g", "", body, 3000, "ETag", "\"1\"");
        StoredResponse stale = hit("https://h/g", "");
        Fill f = ((Lookup.Lead) on(loop, () -> zone.revalidate(stale, VariantKeys.NONE, loop, WAIT))).fill();
        assertThat(zone.purgeKey("https://h/g")).isEqualTo(1);
        StoredResponse fresh = on(loop, () -> f.freshen(stale.meta().freshened(stale.meta().headers(), 7, 8)));
        assertThat(fresh.meta().responseTimeMillis()).isEqualTo(8);
        assertThat(zone.objects()).isZero();
        Lookup again = lookup("https://h/g", "");
        assertThat(again).isInstanceOf(Lookup.Lead.class);
        on(loop, () -> {
            ((Lookup.Lead) again).fill().uncacheable();
            return null;
        });
        assertThat(read(stale)).isEqualTo(body); // the revalidating request still serves its lease
    }

    @Test
    void purgesByUrlPrefixAndTagRemoveWhatMatchesAndCountIt() throws Exception {
        fill("https://h/p/1", "", pattern("1", 10), 10, "Surrogate-Key", "red  blue");
        fill("https://h/p/2", "", pattern("2", 10), 10, "Cache-Tag", "blue, green");
        fill("https://h/p/3", "", pattern("3", 10), 10, "Surrogate-Key", "green");
        fill("https://h/q/1", "", pattern("4", 10), 10, "Surrogate-Key", "blue", "Cache-Tag", "red");
        fill("https://h/pp", "", pattern("5", 10), 10);

        assertThat(zone.purgeTag("blue")).isEqualTo(3);
        assertThat(zone.purgeTag("blue")).isZero();
        assertThat(zone.keys()).extracting(CacheKey::primary).containsExactlyInAnyOrder("https://h/p/3", "https://h/pp");
        assertThat(zone.purgePrefix("https://h/p/")).isEqualTo(1);
        assertThat(zone.purgeKey("https://h/nothing")).isZero();
        assertThat(zone.purgeKey("https://h/pp")).isEqualTo(1);
        assertThat(zone.objects()).isZero();
        assertThat(metrics.cache("z").count("purged")).isEqualTo(5);
        // the indexes follow the cache down to nothing
        assertThat(zone.index().primaryCount()).isZero();
        assertThat(zone.index().orderedCount()).isZero();
        assertThat(zone.index().tagCount()).isZero();
        assertLiveReturnsTo(alloc, 0);
    }

    @Test
    void aPurgeDuringAFillWinsButTheFillStillServesItsFollowers() throws Exception {
        byte[] body = pattern("d", 50_000);
        Fill f = on(loop, () -> ((Lookup.Lead) zone.lookup("https://h/d", VariantKeys.NONE, loop, WAIT)).fill());
        Lookup follower = on(other, () -> zone.lookup("https://h/d", VariantKeys.NONE, other, WAIT));
        on(loop, () -> f.begin(meta("https://h/d", "", "Surrogate-Key", "t"), body.length));
        on(loop, () -> appendPart(f, alloc, body, 0, 20_000));
        assertThat(zone.purgeKey("https://h/d")).isZero(); // nothing stored yet, but the fill is doomed
        assertThat(f.isDoomed()).isTrue();
        // a new request does not follow the doomed fill: it fetches anew
        Lookup fresh = lookup("https://h/d", "");
        assertThat(fresh).isInstanceOf(Lookup.Lead.class);
        on(loop, () -> appendPart(f, alloc, body, 20_000, body.length));
        assertThat(on(loop, f::complete)).isFalse();
        assertThat(zone.objects()).isZero();
        FollowOutcome fo = ((Lookup.Follow) follower).outcome().get();
        StoredResponse r = ((FollowOutcome.Attached) fo).response();
        assertThat(read(r)).isEqualTo(body);
        on(loop, () -> {
            ((Lookup.Lead) fresh).fill().abort(AbortReason.UPSTREAM_FAILED);
            return null;
        });
    }

    @Test
    void aTagPurgeDoomsFillsThatMayCarryTheTagOnly() throws Exception {
        Fill pending = on(loop, () -> ((Lookup.Lead) zone.lookup("https://h/t1", VariantKeys.NONE, loop, WAIT)).fill());
        Fill other1 = on(loop, () -> ((Lookup.Lead) zone.lookup("https://h/t2", VariantKeys.NONE, loop, WAIT)).fill());
        on(loop, () -> other1.begin(meta("https://h/t2", "", "Cache-Tag", "x"), 3));
        zone.purgeTag("y");
        assertThat(pending.isDoomed()).as("head unknown: may carry the tag").isTrue();
        assertThat(other1.isDoomed()).as("its tags are known and do not match").isFalse();
        on(loop, () -> appendPart(other1, alloc, new byte[] {1, 2, 3}, 0, 3));
        assertThat(on(loop, other1::complete)).isTrue();
        on(loop, () -> pending.begin(meta("https://h/t1", ""), 0));
        assertThat(on(loop, pending::complete)).isFalse();
    }

    @Test
    void aReaderKeepsItsBytesWhileTheObjectIsPurged() throws Exception {
        byte[] body = pattern("k", 120_000);
        fill("https://h/k", "", body, 10_000);
        StoredResponse h = hit("https://h/k", "");
        Collector c = new Collector();
        c.pauseAt = 1; // pauses after its first chunk, like a client whose socket is full
        BodySubscription sub = on(other, () -> h.body().subscribe(other, c));
        h.release();
        StoreFixtures.awaitTrue(() -> c.received.get() > 0, "first chunk");
        assertThat(zone.purgeKey("https://h/k")).isEqualTo(1);
        Lookup after = lookup("https://h/k", "");
        assertThat(after).isInstanceOf(Lookup.Lead.class);
        assertThat(live(alloc)).as("the purged body is still held by its reader").isPositive();
        c.pauseAt = Long.MAX_VALUE;
        sub.resume();
        assertThat(await(c.done)).isEqualTo(body);
        on(loop, () -> {
            ((Lookup.Lead) after).fill().uncacheable();
            return null;
        });
    }

    @Test
    void concurrentPurgesAndReadsNeverSeeFreedBytes() throws Exception {
        byte[] body = pattern("c", 40_000);
        for (int round = 0; round < 30; round++) {
            String key = "https://h/c" + round;
            fill(key, "", body, 4096);
            StoredResponse h = hit(key, "");
            CountDownLatch go = new CountDownLatch(1);
            Collector c = new Collector();
            Future<?> reader = other.submit(() -> {
                go.await();
                h.body().subscribe(other, c);
                h.release();
                return null;
            });
            Future<?> purger = loop.submit(() -> {
                go.await();
                return zone.purgeKey(key);
            });
            go.countDown();
            reader.get();
            purger.get();
            assertThat(await(c.done)).isEqualTo(body);
        }
        assertThat(zone.objects()).isZero();
    }

    @Test
    void onlyOneRefreshRunsPerKeyAtATime() throws Exception {
        byte[] v1 = pattern("v1", 30_000);
        byte[] v2 = pattern("v2", 31_000);
        fill("https://h/s", "", v1, 8192);
        StoredResponse stale = hit("https://h/s", "");
        List<Optional<Fill>> tries = new ArrayList<>();
        for (EventLoop l : List.of(loop, other, loop, other)) {
            tries.add(on(l, () -> zone.startRefresh(stale)));
        }
        assertThat(tries).filteredOn(Optional::isPresent).hasSize(1);
        Fill refresh = tries.get(0).orElseThrow();
        assertThat(refresh.stale()).isSameAs(stale);
        // while it runs, readers still get the stale object
        assertThat(read(hit("https://h/s", ""))).isEqualTo(v1);
        on(loop, () -> refresh.begin(meta("https://h/s", "", "X-Version", "2"), v2.length));
        on(loop, () -> appendPart(refresh, alloc, v2, 0, v2.length));
        assertThat(on(loop, refresh::complete)).isTrue();
        StoredResponse now = hit("https://h/s", "");
        assertThat(now.meta().headers().get("x-version")).isEqualTo("2");
        assertThat(read(now)).isEqualTo(v2);
        // the replaced object is freed once its last reader is done
        assertThat(read(stale)).isEqualTo(v1);
        assertThat(zone.objects()).isEqualTo(1);
        // and the next refresh may start
        StoredResponse s2 = hit("https://h/s", "");
        Optional<Fill> next = on(loop, () -> zone.startRefresh(s2));
        assertThat(next).isPresent();
        on(loop, () -> {
            next.get().uncacheable();
            return null;
        });
        s2.release();
        StoredResponse s3 = hit("https://h/s", "");
        Optional<Fill> third = on(other, () -> zone.startRefresh(s3));
        s3.release(); // the refresh holds its own reference
        assertThat(third).isPresent();
        on(other, () -> {
            third.get().abort(AbortReason.UPSTREAM_FAILED);
            return null;
        });
        assertThat(read(hit("https://h/s", ""))).isEqualTo(v2);
    }

    @Test
    void zoneMetricsAreExported() throws Exception {
        fill("https://h/m", "", pattern("m", 5000), 5000);
        metrics.cache("z").hit();
        metrics.cache("z").miss();
        metrics.cache("z").staleServed();
        metrics.cache("z").collapsed();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writeText(out);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("portcullis_cache_objects{zone=\"z\"} 1")
                .contains("portcullis_cache_hits_total{zone=\"z\"} 1")
                .contains("portcullis_cache_misses_total{zone=\"z\"} 1")
                .contains("portcullis_cache_stale_total{zone=\"z\"} 1")
                .contains("portcullis_cache_collapsed_total{zone=\"z\"} 1")
                .contains("portcullis_cache_evictions_total{zone=\"z\"} 0")
                .containsPattern("portcullis_cache_bytes\\{zone=\"z\"} [1-9]");
        zone.close();
        out.reset();
        metrics.writeText(out);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("portcullis_cache_objects{zone=\"z\"} 0");
    }
}
