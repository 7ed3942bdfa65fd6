package dev.portcullis.http.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code rate_limit} with {@code store: local}: the generic cell rate algorithm (GCRA, a token bucket kept as one
 * number per key: the theoretical arrival time of the next request). A request is allowed when, once it is
 * counted, the bucket is no more than {@code burst} requests ahead of now; one {@code compareAndSet} per decision,
 * no lock. Keys not seen for as long as a full bucket takes to drain are dropped, at most {@link #MAX_KEYS} kept
 * (a flood of new client addresses cannot grow memory without bound: the least useful key goes, which can only
 * give that key a fresh bucket).
 */
public final class LocalRateLimiter {
    static final long MAX_KEYS = 1_000_000;

    /** Nanoseconds between two requests at the steady rate. */
    private final long interval;
    /** How far ahead of now the bucket may run: {@code burst} intervals. */
    private final long tolerance;
    private final long limit;
    private final Duration per;
    private final long burst;
    private final Cache<String, AtomicLong> cells;

    /** The outcome of one decision, with what the {@code RateLimit-*} headers say. */
    public record Decision(boolean allowed, long limit, long remaining, long resetSeconds, long retryAfterSeconds) {}

    public LocalRateLimiter(long limit, Duration per, long burst) {
        this.limit = limit;
        this.per = per;
        this.burst = burst;
        this.interval = Math.max(1, per.toNanos() / limit);
        // a day's interval times a huge burst would overflow: such a bucket is as good as endless anyway
        this.tolerance = interval > (Long.MAX_VALUE / 4) / burst ? Long.MAX_VALUE / 4 : interval * burst;
        // maintenance on the calling thread: the default hands it to the common pool, whose wake-ups (futex
        // calls, a thread switch) cost more per request on a busy event loop than the work itself
        this.cells = Caffeine.newBuilder().maximumSize(MAX_KEYS).executor(Runnable::run)
                .expireAfterAccess(Duration.ofNanos(tolerance).plusSeconds(1)).build();
    }

    public Decision acquire(String key, long nowNanos) {
        AtomicLong cell = cells.getIfPresent(key);
        if (cell == null) {
            cell = cells.get(key, k -> new AtomicLong(nowNanos));
        }
        while (true) {
            long tat = cell.get();
            long base = Math.max(tat, nowNanos);
            long next = base + interval;
            long ahead = next - nowNanos;
            if (ahead > tolerance) {
                long wait = ahead - tolerance;
                return new Decision(false, limit, 0, seconds(tat - nowNanos), seconds(wait));
            }
            if (cell.compareAndSet(tat, next)) {
                long remaining = (tolerance - ahead) / interval;
                return new Decision(true, limit, remaining, seconds(ahead), 0);
            }
        }
    }

    /** Whole seconds, rounded up (a client told 0 would retry at once). */
    private static long seconds(long nanos) {
        return nanos <= 0 ? 0 : (nanos + 999_999_999L) / 1_000_000_000L;
    }

    /** The policy for {@code RateLimit-Policy}: {@code N;w=SECONDS}. */
    public String policy() {
        return policy(limit, per, burst);
    }

    static String policy(long limit, Duration per, long burst) {
        return limit + ";w=" + per.toSeconds() + (burst != limit ? ";burst=" + burst : "");
    }
}
