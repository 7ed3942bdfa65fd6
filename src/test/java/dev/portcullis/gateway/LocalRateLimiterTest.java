package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.http.gateway.LocalRateLimiter;
import dev.portcullis.http.gateway.LocalRateLimiter.Decision;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The GCRA of {@code rate_limit}'s local store, with explicit clocks (nanoseconds) so nothing depends on timing. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LocalRateLimiterTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    /** An arbitrary origin; System.nanoTime() may be anything, negative included. */
    private static final long T0 = -123_456_789_000L;

    @Test
    void aFullBucketLetsTheBurstThroughAtOnceThenRefuses() {
        LocalRateLimiter l = new LocalRateLimiter(5, Duration.ofSeconds(1), 5);
        for (int i = 0; i < 5; i++) {
            Decision d = l.acquire("k", T0);
            assertThat(d.allowed()).as("request %d", i + 1).isTrue();
            assertThat(d.limit()).isEqualTo(5);
            assertThat(d.remaining()).isEqualTo(4 - i);
            assertThat(d.retryAfterSeconds()).isZero();
            // full again after (i + 1) intervals of 200 ms: rounded up to whole seconds
            assertThat(d.resetSeconds()).isEqualTo(1);
        }
        Decision refused = l.acquire("k", T0);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.retryAfterSeconds()).isEqualTo(1); // 200 ms, rounded up: never 0
        assertThat(refused.resetSeconds()).isEqualTo(1);
        // a refusal takes nothing from the bucket: it is still one interval away
        assertThat(l.acquire("k", T0 + 199 * MS).allowed()).isFalse();
        assertThat(l.acquire("k", T0 + 200 * MS).allowed()).isTrue();
        assertThat(l.acquire("k", T0 + 200 * MS).allowed()).isFalse();
        // other keys have their own buckets
        assertThat(l.acquire("other", T0).remaining()).isEqualTo(4);
        assertThat(l.policy()).isEqualTo("5;w=1");
    }

    @Test
    void theBucketRefillsOneRequestPerIntervalAndNeverHoldsMoreThanTheBurst() {
        LocalRateLimiter l = new LocalRateLimiter(10, Duration.ofSeconds(1), 3); // one per 100 ms, 3 at once
        assertThat(drain(l, "k", T0)).isEqualTo(3);
        assertThat(drain(l, "k", T0 + 50 * MS)).isZero();
        assertThat(drain(l, "k", T0 + 100 * MS)).isEqualTo(1);
        assertThat(drain(l, "k", T0 + 350 * MS)).isEqualTo(2); // 250 ms later: two and a half intervals
        assertThat(drain(l, "k", T0 + 400 * MS)).isEqualTo(1); // the half was kept
        // idle for an hour: the bucket is full, not fuller
        assertThat(drain(l, "k", T0 + 3600 * S)).isEqualTo(3);
        // a steady client at exactly the rate is never refused
        long t = T0 + 7200 * S;
        drain(l, "k", t);
        for (int i = 1; i <= 50; i++) {
            assertThat(l.acquire("k", t + i * 100 * MS).allowed()).as("request at +%d ms", i * 100).isTrue();
        }
        assertThat(l.policy()).isEqualTo("10;w=1;burst=3");
    }

    @Test
    void resetAndRetryAfterAreWholeSecondsRoundedUp() {
        LocalRateLimiter l = new LocalRateLimiter(5, Duration.ofMinutes(1), 5); // one per 12 s
        Decision first = l.acquire("k", T0);
        assertThat(first.remaining()).isEqualTo(4);
        assertThat(first.resetSeconds()).isEqualTo(12);
        for (int i = 2; i <= 5; i++) {
            Decision d = l.acquire("k", T0 + i * MS);
            assertThat(d.remaining()).isEqualTo(5 - i);
            // 12 s per request taken, less the few ms that passed: rounded up
            assertThat(d.resetSeconds()).isEqualTo(12L * i);
        }
        Decision refused = l.acquire("k", T0 + 1500 * MS);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterSeconds()).isEqualTo(11); // 12 s - 1.5 s = 10.5 s, rounded up
        assertThat(refused.resetSeconds()).isEqualTo(59); // 60 s - 1.5 s
        Decision later = l.acquire("k", T0 + 12 * S);
        assertThat(later.allowed()).isTrue();
        assertThat(later.remaining()).isZero();
        assertThat(later.resetSeconds()).isEqualTo(60);
        assertThat(l.policy()).isEqualTo("5;w=60");
    }

    @Test
    void aBurstOfOneAllowsOneAtATime() {
        LocalRateLimiter l = new LocalRateLimiter(1, Duration.ofHours(1), 1);
        Decision d = l.acquire("k", T0);
        assertThat(d.allowed()).isTrue();
        assertThat(d.remaining()).isZero();
        assertThat(d.resetSeconds()).isEqualTo(3600);
        Decision refused = l.acquire("k", T0 + S);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterSeconds()).isEqualTo(3599);
        assertThat(l.acquire("k", T0 + 3600 * S).allowed()).isTrue();
        assertThat(l.policy()).isEqualTo("1;w=3600");
    }

    @Test
    void slowRatesAndBigBurstsDoNotOverflow() {
        // a day per request and a burst of a million: a bucket of 2,700 years, past what nanoseconds count
        LocalRateLimiter l = new LocalRateLimiter(1, Duration.ofDays(1), 1_000_000);
        Decision first = l.acquire("k", T0);
        assertThat(first.allowed()).isTrue();
        // the bucket is capped (decades of requests), never wrapped around to a negative or empty one
        assertThat(first.remaining()).isBetween(20_000L, 999_999L);
        assertThat(first.resetSeconds()).isEqualTo(86_400);
        assertThat(drain(l, "k", T0 + 1, 1_000_000)).isEqualTo(first.remaining());
        Decision refused = l.acquire("k", T0 + 2);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterSeconds()).isBetween(1L, 86_400L);
        LocalRateLimiter fast = new LocalRateLimiter(1_000_000_000L, Duration.ofSeconds(1), Integer.MAX_VALUE);
        assertThat(fast.acquire("k", T0).allowed()).isTrue();
    }

    @Test
    void manyThreadsOnOneKeyNeverGetMoreThanTheBurst() throws Exception {
        int threads = 16;
        int perThread = 2_000;
        // a fixed clock: exactly the burst passes
        LocalRateLimiter fixed = new LocalRateLimiter(100, Duration.ofHours(1), 100);
        assertThat(hammer(threads, perThread, () -> fixed.acquire("hot", T0).allowed())).isEqualTo(100);
        // the real clock, at a rate that cannot refill meanwhile: the burst still, never more
        LocalRateLimiter real = new LocalRateLimiter(250, Duration.ofDays(1), 250);
        assertThat(hammer(threads, perThread, () -> real.acquire("hot", System.nanoTime()).allowed()))
                .isEqualTo(250);
        // and with a clock each thread moves on by itself: at most burst + what the time passed refills
        LocalRateLimiter moving = new LocalRateLimiter(1000, Duration.ofSeconds(1), 10); // one per ms
        AtomicInteger tick = new AtomicInteger();
        int allowed = hammer(threads, perThread, () -> moving.acquire("hot", T0 + tick.incrementAndGet() * 1000L)
                .allowed()); // 1 µs per call: 32 ms in all
        assertThat(allowed).isBetween(10, 10 + threads * perThread / 1000);
    }

    private interface Attempt {
        boolean allowed();
    }

    /** Every thread starts at once and makes {@code perThread} attempts; the number allowed in all. */
    private static int hammer(int threads, int perThread, Attempt attempt) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    go.await();
                    int n = 0;
                    for (int i = 0; i < perThread; i++) {
                        if (attempt.allowed()) {
                            n++;
                        }
                    }
                    return n;
                }));
            }
            go.countDown();
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Takes from the bucket at {@code now} until refused; how many were allowed. */
    private static int drain(LocalRateLimiter l, String key, long now) {
        return drain(l, key, now, 1_000);
    }

    private static int drain(LocalRateLimiter l, String key, long now, int atMost) {
        int n = 0;
        while (l.acquire(key, now).allowed()) {
            n++;
            assertThat(n).as("the bucket never empties").isLessThan(atMost);
        }
        return n;
    }
}
