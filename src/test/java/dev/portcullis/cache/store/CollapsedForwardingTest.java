package dev.portcullis.cache.store;

import static dev.portcullis.cache.store.StoreFixtures.appendPart;
import static dev.portcullis.cache.store.StoreFixtures.assertLiveReturnsTo;
import static dev.portcullis.cache.store.StoreFixtures.await;
import static dev.portcullis.cache.store.StoreFixtures.awaitTrue;
import static dev.portcullis.cache.store.StoreFixtures.meta;
import static dev.portcullis.cache.store.StoreFixtures.on;
import static dev.portcullis.cache.store.StoreFixtures.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.cache.store.FollowOutcome.Attached;
import dev.portcullis.cache.store.FollowOutcome.GoUpstream;
import dev.portcullis.cache.store.FollowOutcome.Reason;
import dev.portcullis.cache.store.StoreFixtures.Collector;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Streaming fill and collapsed forwarding: one leader, followers on other event loops, backpressure, aborts. */
class CollapsedForwardingTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String KEY = "https://h/c";
    private MultiThreadIoEventLoopGroup group;
    private List<EventLoop> loops;
    private PooledByteBufAllocator alloc;
    private CacheZone zone;

    @BeforeEach
    void setUp() {
        group = StoreFixtures.loops(4);
        loops = StoreFixtures.eachLoop(group, 4);
        alloc = StoreFixtures.exactAllocator();
        zone = StoreFixtures.zone("c", 8 << 20, 1 << 20, alloc, new ProxyMetrics());
    }

    @AfterEach
    void tearDown() throws Exception {
        zone.close();
        assertLiveReturnsTo(alloc, 0);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One request: the loop it runs on and what its lookup gave. */
    private record Req(EventLoop loop, Lookup lookup) {}

    /** {@code n} concurrent lookups of KEY spread over the loops, released together. */
    private List<Req> race(int n, VariantKeys variants, Duration timeout) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<EventLoop> where = new ArrayList<>();
        List<Future<Lookup>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            EventLoop l = loops.get(i % loops.size());
            where.add(l);
            futures.add(l.submit(() -> {
                go.await();
                return zone.lookup(KEY, variants, l, timeout);
            }));
        }
        go.countDown();
        List<Req> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Req(where.get(i), futures.get(i).get(10, TimeUnit.SECONDS)));
        }
        return out;
    }

    private static Req leader(List<Req> reqs) {
        List<Req> leads = reqs.stream().filter(r -> r.lookup() instanceof Lookup.Lead).toList();
        assertThat(leads).as("exactly one request goes upstream").hasSize(1);
        return leads.get(0);
    }

    private static Fill fill(Req r) {
        return ((Lookup.Lead) r.lookup()).fill();
    }

    private static FollowOutcome outcome(Req r) throws Exception {
        return ((Lookup.Follow) r.lookup()).outcome().get(10, TimeUnit.SECONDS);
    }

    /** Subscribes a follower's attached response on its own loop; the collector sees every chunk as it arrives. */
    private static Collector attach(Req r, CompletableFuture<Boolean> leaderDone) {
        Collector c = new Collector();
        c.leaderDone = leaderDone::isDone;
        ((Lookup.Follow) r.lookup()).outcome().thenAccept(o -> {
            StoredResponse s = ((Attached) o).response();
            c.subscription = s.body().subscribe(r.loop(), c);
            s.release();
        });
        return c;
    }

    @Test
    void fiftyFollowersShareOneUpstreamFetchAndGetTheBodyAsItArrives() throws Exception {
        List<Req> reqs = race(51, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        List<Req> followers = reqs.stream().filter(r -> r != lead).toList();
        assertThat(followers).hasSize(50).allMatch(r -> r.lookup() instanceof Lookup.Follow);

        byte[] body = pattern("fifty", 400_000);
        CompletableFuture<Boolean> leaderDone = new CompletableFuture<>();
        List<Collector> collectors = followers.stream().map(r -> attach(r, leaderDone)).toList();
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, "", "Content-Type", "application/octet-stream"), -1));
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, 8192));
        // every follower is served the first chunk while the leader is still receiving the rest
        awaitTrue(() -> collectors.stream().allMatch(c -> c.received.get() >= 8192), "every follower's first chunk");
        for (int i = 8192; i < body.length; i += 8192) {
            int from = i;
            on(lead.loop(), () -> appendPart(f, alloc, body, from, Math.min(body.length, from + 8192)));
        }
        leaderDone.complete(true);
        assertThat(on(lead.loop(), f::complete)).isTrue();
        for (int i = 0; i < collectors.size(); i++) {
            Collector c = collectors.get(i);
            assertThat(await(c.done)).as("follower " + i).isEqualTo(body);
            assertThat(c.gotBytesBeforeLeaderDone).isTrue();
            assertThat(followers.get(i).loop().inEventLoop(c.thread)).as("delivered on the follower's own loop").isTrue();
        }
        assertThat(zone.objects()).isEqualTo(1);
        assertThat(zone.fillsInProgress()).isZero();
        Lookup after = on(loops.get(1), () -> zone.lookup(KEY, VariantKeys.NONE, loops.get(1), WAIT));
        assertThat(after).isInstanceOf(Lookup.Hit.class);
        ((Lookup.Hit) after).response().release();
    }

    @Test
    void aSlowFollowerDoesNotHoldUpTheFillOrTheOthers() throws Exception {
        List<Req> reqs = race(3, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        List<Req> followers = reqs.stream().filter(r -> r != lead).toList();
        CompletableFuture<Boolean> leaderDone = new CompletableFuture<>();
        Collector fast = attach(followers.get(0), leaderDone);
        Collector slow = attach(followers.get(1), leaderDone);
        slow.pauseAt = 1; // its client's socket is full after the first chunk
        byte[] body = pattern("slow", 300_000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, ""), body.length));
        for (int i = 0; i < body.length; i += 16_384) {
            int from = i;
            on(lead.loop(), () -> appendPart(f, alloc, body, from, Math.min(body.length, from + 16_384)));
        }
        assertThat(on(lead.loop(), f::complete)).isTrue();
        assertThat(await(fast.done)).isEqualTo(body);
        assertThat(slow.received.get()).as("the slow follower is still at its first chunk").isLessThan(body.length);
        assertThat(slow.done).isNotDone();
        // the object is stored and served while the slow follower still reads
        Lookup hit = on(lead.loop(), () -> zone.lookup(KEY, VariantKeys.NONE, lead.loop(), WAIT));
        assertThat(hit).isInstanceOf(Lookup.Hit.class);
        ((Lookup.Hit) hit).response().release();
        slow.pauseAt = Long.MAX_VALUE;
        slow.subscription().resume(); // its channel became writable again
        assertThat(await(slow.done)).isEqualTo(body);
    }

    @Test
    void aBodyPassingMaxObjectSizeAbortsTheAttachedFollowersAndIsNotStored() throws Exception {
        zone.close();
        zone = StoreFixtures.zone("c", 8 << 20, 64 << 10, alloc, new ProxyMetrics());
        List<Req> reqs = race(4, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        CompletableFuture<Boolean> leaderDone = new CompletableFuture<>();
        List<Collector> collectors = reqs.stream().filter(r -> r != lead).map(r -> attach(r, leaderDone)).toList();
        byte[] body = pattern("big", 100_000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, ""), -1)); // chunked: the size shows only as it comes
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, 40_000));
        awaitTrue(() -> collectors.stream().allMatch(c -> c.received.get() == 40_000), "the first 40 000 bytes");
        boolean more = on(lead.loop(), () -> appendPart(f, alloc, body, 40_000, 80_000));
        assertThat(more).as("the store stops taking the body").isFalse();
        for (Collector c : collectors) {
            assertThat(c.aborted.get(10, TimeUnit.SECONDS)).isEqualTo(AbortReason.TOO_LARGE);
            assertThat(c.abortedAfter).isEqualTo(40_000);
            assertThat(c.done).isNotDone(); // never a silently truncated "complete" body
        }
        assertThat(on(lead.loop(), f::complete)).isFalse();
        assertThat(zone.objects()).isZero();
        assertThat(zone.fillsInProgress()).isZero();
        Lookup next = on(lead.loop(), () -> zone.lookup(KEY, VariantKeys.NONE, lead.loop(), WAIT));
        assertThat(next).isInstanceOf(Lookup.Lead.class);
        on(lead.loop(), () -> {
            ((Lookup.Lead) next).fill().uncacheable();
            return null;
        });
    }

    @Test
    void anUpstreamResetMidBodyAbortsTheFollowersAndLateComersGoUpstream() throws Exception {
        List<Req> reqs = race(3, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        CompletableFuture<Boolean> leaderDone = new CompletableFuture<>();
        List<Collector> collectors = reqs.stream().filter(r -> r != lead).map(r -> attach(r, leaderDone)).toList();
        byte[] body = pattern("reset", 50_000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, ""), body.length));
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, 10_000));
        awaitTrue(() -> collectors.stream().allMatch(c -> c.received.get() == 10_000), "the first bytes");
        on(lead.loop(), () -> {
            f.abort(AbortReason.UPSTREAM_FAILED);
            return null;
        });
        for (Collector c : collectors) {
            assertThat(c.aborted.get(10, TimeUnit.SECONDS)).isEqualTo(AbortReason.UPSTREAM_FAILED);
            assertThat(c.done).isNotDone();
        }
        assertThat(zone.objects()).isZero();
        assertThat(zone.fillsInProgress()).isZero();
        assertThat(on(lead.loop(), f::complete)).as("ended fills ignore late calls").isFalse();
    }

    @Test
    void aLeaderFailingBeforeItsHeadSendsTheFollowersUpstream() throws Exception {
        List<Req> reqs = race(5, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        on(lead.loop(), () -> {
            fill(lead).abort(AbortReason.UPSTREAM_FAILED);
            return null;
        });
        for (Req r : reqs) {
            if (r != lead) {
                assertThat(outcome(r)).isEqualTo(new GoUpstream(Reason.LEADER_FAILED));
            }
        }
        assertThat(zone.fillsInProgress()).isZero();
    }

    @Test
    void anUncacheableResponseReleasesTheFollowersAtOnce() throws Exception {
        List<Req> reqs = race(10, VariantKeys.NONE, Duration.ofSeconds(30));
        Req lead = leader(reqs);
        long t0 = System.nanoTime();
        on(lead.loop(), () -> {
            fill(lead).uncacheable();
            return null;
        });
        for (Req r : reqs) {
            if (r != lead) {
                assertThat(outcome(r)).isEqualTo(new GoUpstream(Reason.UNCACHEABLE));
            }
        }
        // well before their 30 s wait: they were told, not timed out
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
        assertThat(zone.fillsInProgress()).isZero();
    }

    @Test
    void aResponseOverMaxObjectSizeByContentLengthSendsFollowersUpstream() throws Exception {
        List<Req> reqs = race(3, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        assertThat(on(lead.loop(), () -> fill(lead).begin(meta(KEY, ""), 2 << 20))).isFalse();
        for (Req r : reqs) {
            if (r != lead) {
                assertThat(outcome(r)).isEqualTo(new GoUpstream(Reason.TOO_LARGE));
            }
        }
    }

    @Test
    void aFollowerStopsWaitingAfterItsTimeoutAndTheNextMissLeadsAgain() throws Exception {
        List<Req> reqs = race(2, VariantKeys.NONE, Duration.ofMillis(200));
        Req lead = leader(reqs);
        Req follower = reqs.get(0) == lead ? reqs.get(1) : reqs.get(0);
        assertThat(outcome(follower)).isEqualTo(new GoUpstream(Reason.TIMEOUT));
        // the silent leader no longer blocks the key
        Lookup again = on(follower.loop(), () -> zone.lookup(KEY, VariantKeys.NONE, follower.loop(), WAIT));
        assertThat(again).isInstanceOf(Lookup.Lead.class);
        // the first leader can still finish, and stores; the second then stores over it
        byte[] one = pattern("one", 1000);
        Fill first = fill(lead);
        on(lead.loop(), () -> first.begin(meta(KEY, "", "X-N", "1"), one.length));
        on(lead.loop(), () -> appendPart(first, alloc, one, 0, one.length));
        assertThat(on(lead.loop(), first::complete)).isTrue();
        Fill second = ((Lookup.Lead) again).fill();
        on(follower.loop(), () -> second.begin(meta(KEY, "", "X-N", "2"), one.length));
        on(follower.loop(), () -> appendPart(second, alloc, one, 0, one.length));
        assertThat(on(follower.loop(), second::complete)).isTrue();
        StoredResponse s = zone.peek(new CacheKey(KEY, ""));
        assertThat(s.meta().headers().get("x-n")).isEqualTo("2");
        s.release();
        assertThat(zone.objects()).isEqualTo(1);
    }

    @Test
    void followersOfAnotherVariantGoUpstreamWhenTheLeadersResponseVaries() throws Exception {
        // before anything is stored nobody knows the response varies: everyone looks up variant ""
        List<Req> reqs = new ArrayList<>();
        String[] encodings = {"gzip", "br", "gzip", "br", "gzip"};
        for (int i = 0; i < encodings.length; i++) {
            String enc = encodings[i];
            EventLoop l = loops.get(i % 4);
            VariantKeys vk = vary -> vary.isEmpty() ? "" : "ae=" + enc;
            reqs.add(new Req(l, on(l, () -> zone.lookup(KEY, vk, l, WAIT))));
        }
        Req lead = reqs.get(0); // the first request, a gzip one, leads
        assertThat(lead.lookup()).isInstanceOf(Lookup.Lead.class);
        byte[] body = pattern("gz", 2000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, "ae=gzip", "Vary", "Accept-Encoding"), body.length));
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, body.length));
        assertThat(on(lead.loop(), f::complete)).isTrue();
        for (int i = 1; i < reqs.size(); i++) {
            FollowOutcome o = outcome(reqs.get(i));
            if (encodings[i].equals("gzip")) {
                assertThat(o).isInstanceOf(Attached.class);
                Collector c = new Collector();
                StoredResponse s = ((Attached) o).response();
                s.body().subscribe(reqs.get(i).loop(), c);
                s.release();
                assertThat(await(c.done)).isEqualTo(body);
            } else {
                assertThat(o).isEqualTo(new GoUpstream(Reason.VARIANT_MISMATCH));
            }
        }
        // now the Vary is known: a br request misses its own variant, a gzip one hits
        Lookup br = on(lead.loop(), () -> zone.lookup(KEY, v -> v.isEmpty() ? "" : "ae=br", lead.loop(), WAIT));
        assertThat(br).isInstanceOf(Lookup.Lead.class);
        on(lead.loop(), () -> {
            ((Lookup.Lead) br).fill().uncacheable();
            return null;
        });
        Lookup gz = on(lead.loop(), () -> zone.lookup(KEY, v -> v.isEmpty() ? "" : "ae=gzip", lead.loop(), WAIT));
        assertThat(gz).isInstanceOf(Lookup.Hit.class);
        ((Lookup.Hit) gz).response().release();
    }

    @Test
    void aCancelledFollowerLeaksNothing() throws Exception {
        List<Req> reqs = race(6, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        for (Req r : reqs) {
            if (r != lead) {
                ((Lookup.Follow) r.lookup()).outcome().cancel(false); // their clients went away
            }
        }
        byte[] body = pattern("cancel", 20_000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, ""), body.length));
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, body.length));
        assertThat(on(lead.loop(), f::complete)).isTrue();
        zone.close(); // the pins taken for the cancelled followers were released: tearDown sees 0 live buffers
    }

    @Test
    void aSubscriptionCancelledMidBodyReleasesItsReference() throws Exception {
        List<Req> reqs = race(2, VariantKeys.NONE, WAIT);
        Req lead = leader(reqs);
        Req follower = reqs.get(0) == lead ? reqs.get(1) : reqs.get(0);
        Collector c = attach(follower, new CompletableFuture<>());
        c.pauseAt = 1;
        byte[] body = pattern("mid", 30_000);
        Fill f = fill(lead);
        on(lead.loop(), () -> f.begin(meta(KEY, ""), body.length));
        on(lead.loop(), () -> appendPart(f, alloc, body, 0, 10_000));
        awaitTrue(() -> c.received.get() > 0 && c.subscription() != null, "first bytes");
        c.subscription().cancel();
        on(lead.loop(), () -> appendPart(f, alloc, body, 10_000, body.length));
        assertThat(on(lead.loop(), f::complete)).isTrue();
        awaitTrue(() -> c.subscription().isDone(), "cancelled");
        assertThat(c.done).isNotDone();
        assertThat(c.aborted).isNotDone();
    }
}
