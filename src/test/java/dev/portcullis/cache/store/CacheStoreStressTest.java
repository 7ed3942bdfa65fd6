package dev.portcullis.cache.store;

import static dev.portcullis.cache.store.StoreFixtures.assertLiveReturnsTo;
import static dev.portcullis.cache.store.StoreFixtures.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.cache.store.FollowOutcome.Attached;
import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many keys, four event loops, clients that hit, lead, follow, refresh and abort, a purger thread: every byte
 * read must be the key's bytes, nothing may hang, and at the end every chunk is back in the pool (the leak
 * detector runs at paranoid for the whole class).
 */
class CacheStoreStressTest {
    private static final int KEYS = 120;
    private static final int CLIENTS_PER_LOOP = 6;
    private static final int REQUESTS_PER_CLIENT = 60;

    private final AtomicInteger errors = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
    private final AtomicInteger hits = new AtomicInteger();
    private final AtomicInteger leads = new AtomicInteger();
    private final AtomicInteger attached = new AtomicInteger();
    private final AtomicInteger upstream = new AtomicInteger();
    private final AtomicInteger aborted = new AtomicInteger();
    private final AtomicInteger stored = new AtomicInteger();
    private CacheZone zone;
    private PooledByteBufAllocator alloc;

    private static String key(int i) {
        return "https://s/" + (i % 3) + "/k" + i;
    }

    private static byte[] bodyOf(String key) {
        return pattern(key, 500 + Math.floorMod(key.hashCode(), 40_000));
    }

    private void error(String what) {
        errors.incrementAndGet();
        if (firstErrors.size() < 10) {
            firstErrors.add(what);
        }
    }

    @Test
    void manyKeysOnSeveralLoopsStayConsistentAndLeakNothing() throws Exception {
        MultiThreadIoEventLoopGroup group = StoreFixtures.loops(4);
        alloc = StoreFixtures.exactAllocator();
        zone = StoreFixtures.zone("stress", 3 << 20, 64 << 10, alloc, new ProxyMetrics());
        AtomicBoolean running = new AtomicBoolean(true);
        Thread purger = new Thread(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            while (running.get()) {
                switch (r.nextInt(3)) {
                    case 0 -> zone.purgeKey(key(r.nextInt(KEYS)));
                    case 1 -> zone.purgePrefix("https://s/" + r.nextInt(3) + "/k" + r.nextInt(10));
                    default -> zone.purgeTag("t" + r.nextInt(8));
                }
                try {
                    Thread.sleep(40);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "purger");
        purger.start();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        try {
            for (int l = 0; l < 4; l++) {
                EventLoop loop = group.next();
                for (int c = 0; c < CLIENTS_PER_LOOP; c++) {
                    CompletableFuture<Void> done = new CompletableFuture<>();
                    clients.add(done);
                    loop.execute(() -> nextRequest(loop, REQUESTS_PER_CLIENT, done));
                }
            }
            CompletableFuture.allOf(clients.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
        } finally {
            running.set(false);
            purger.join();
        }
        assertThat(errors.get()).as("errors: " + firstErrors).isZero();
        assertThat(hits.get() + leads.get()).isPositive();
        assertThat(attached.get()).as("collapsed followers happened").isPositive();
        zone.cleanUp();
        // the indexes match the cache exactly
        Set<String> primaries = new HashSet<>();
        zone.keys().forEach(k -> primaries.add(k.primary()));
        assertThat(zone.index().primaryCount()).isEqualTo(primaries.size());
        assertThat(zone.index().orderedCount()).isEqualTo(primaries.size());
        assertThat(zone.bytes()).isLessThanOrEqualTo(3 << 20);
        assertThat(zone.fillsInProgress()).isZero();
        long objectsBeforeClose = zone.objects();
        long evictions = zone.stats().count("evictions");
        long bytes = zone.bytes();
        zone.close();
        assertThat(zone.index().primaryCount()).isZero();
        assertThat(zone.index().tagCount()).isZero();
        assertLiveReturnsTo(alloc, 0);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        System.out.printf("stress: hits %d, leads %d (stored %d), attached followers %d, followers sent upstream %d, "
                + "aborted reads %d, evictions %d, at the end %d objects in %d bytes%n", hits.get(), leads.get(),
                stored.get(), attached.get(), upstream.get(), aborted.get(), evictions, objectsBeforeClose, bytes);
    }

    /** One client: a request, then the next when it is done. */
    private void nextRequest(EventLoop loop, int left, CompletableFuture<Void> done) {
        if (left == 0) {
            done.complete(null);
            return;
        }
        Runnable next = () -> loop.execute(() -> nextRequest(loop, left - 1, done));
        try {
            request(loop, key(ThreadLocalRandom.current().nextInt(KEYS)), next);
        } catch (Throwable t) {
            error("request threw " + t);
            done.completeExceptionally(t);
        }
    }

    private void request(EventLoop loop, String key, Runnable next) {
        Lookup l = zone.lookup(key, VariantKeys.NONE, loop, Duration.ofSeconds(5));
        if (l instanceof Lookup.Hit h) {
            hits.incrementAndGet();
            StoredResponse s = h.response();
            if (ThreadLocalRandom.current().nextInt(20) == 0) {
                Optional<Fill> refresh = zone.startRefresh(s);
                refresh.ifPresent(f -> lead(loop, f, key));
            }
            read(loop, s, key, next);
        } else if (l instanceof Lookup.Lead lead) {
            leads.incrementAndGet();
            lead(loop, lead.fill(), key);
            next.run();
        } else {
            ((Lookup.Follow) l).outcome().whenComplete((o, t) -> {
                if (t != null) {
                    error("follow failed " + t);
                    next.run();
                } else if (o instanceof Attached a) {
                    attached.incrementAndGet();
                    read(loop, a.response(), key, next);
                } else {
                    upstream.incrementAndGet();
                    next.run();
                }
            });
        }
    }

    /** Plays the upstream: mostly a good response in parts (one loop task each), sometimes uncacheable or a reset. */
    private void lead(EventLoop loop, Fill fill, String key) {
        int fate = ThreadLocalRandom.current().nextInt(10);
        if (fate == 0) {
            fill.uncacheable();
            return;
        }
        byte[] body = bodyOf(key);
        ResponseMeta meta = ResponseMeta.of(key, "", 200, "OK",
                HeaderList.of("X-Len", Integer.toString(body.length), "Surrogate-Key",
                        "t" + Math.floorMod(key.hashCode(), 8)), 1, 2);
        if (!fill.begin(meta, ThreadLocalRandom.current().nextBoolean() ? body.length : -1)) {
            return;
        }
        int part = 1000 + ThreadLocalRandom.current().nextInt(9000);
        appendFrom(loop, fill, body, 0, part, fate == 1);
    }

    private void appendFrom(EventLoop loop, Fill fill, byte[] body, int from, int part, boolean reset) {
        if (reset && from > body.length / 2) {
            fill.abort(AbortReason.UPSTREAM_FAILED);
            return;
        }
        if (from >= body.length) {
            if (fill.complete()) {
                stored.incrementAndGet();
            }
            return;
        }
        int to = Math.min(body.length, from + part);
        ByteBuf chunk = alloc.directBuffer(to - from).writeBytes(body, from, to - from);
        boolean more = fill.append(chunk);
        chunk.release();
        if (more) {
            loop.execute(() -> appendFrom(loop, fill, body, to, part, reset));
        }
    }

    /** Reads like a client: checks every byte against the key's, then releases its lease. */
    private void read(EventLoop loop, StoredResponse s, String key, Runnable next) {
        byte[] expected = bodyOf(key);
        if (!Integer.toString(expected.length).equals(s.meta().headers().get("x-len"))) {
            error(key + ": wrong metadata " + s.meta());
        }
        s.body().subscribe(loop, new BodyReceiver() {
            int at;

            @Override
            public boolean onChunk(ByteBuf chunk) {
                try {
                    byte[] got = new byte[chunk.readableBytes()]; // one read: each access of a tracked buffer costs
                    chunk.readBytes(got);
                    if (at + got.length > expected.length
                            || !java.util.Arrays.equals(got, 0, got.length, expected, at, at + got.length)) {
                        error(key + ": wrong bytes at " + at);
                    }
                    at += got.length;
                    return true;
                } finally {
                    chunk.release();
                }
            }

            @Override
            public void onComplete() {
                if (at != expected.length) {
                    error(key + ": complete after " + at + " of " + expected.length);
                }
                next.run();
            }

            @Override
            public void onAbort(AbortReason reason, long bytesDelivered) {
                aborted.incrementAndGet();
                next.run();
            }
        });
        s.release();
    }
}
