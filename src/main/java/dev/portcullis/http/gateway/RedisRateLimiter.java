package dev.portcullis.http.gateway;

import dev.portcullis.redis.RedisClients;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code rate_limit} with {@code store: redis}: the same GCRA as {@link LocalRateLimiter}, kept in Redis so that
 * every instance sharing it enforces one limit. One {@code EVAL} per decision, atomic in Redis, on Redis's own
 * clock ({@code TIME}, so instances with skewed clocks agree); the bucket is one key that expires once it is full
 * again. Keys carry their whole name in a hash tag, so each lives in one slot of a Redis Cluster. Never blocks an
 * event loop: the caller gets a future, answered within {@link #TIMEOUT} or failed.
 */
public final class RedisRateLimiter {
    /** How long a decision may wait for Redis before {@code on_redis_error} decides instead. */
    static final Duration TIMEOUT = Duration.ofMillis(500);

    /** KEYS: the bucket. ARGV: interval µs, tolerance µs. Returns {allowed 0/1, ahead µs, wait µs}. */
    static final String SCRIPT = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local interval = tonumber(ARGV[1])
            local tolerance = tonumber(ARGV[2])
            local tat = tonumber(redis.call('GET', KEYS[1])) or now
            local nxt = math.max(tat, now) + interval
            local ahead = nxt - now
            if ahead > tolerance then
              return {0, tat - now, ahead - tolerance}
            end
            redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor(ahead / 1000) + 1000)
            return {1, ahead, 0}
            """;

    private final RedisClients redis;
    private final String prefix;
    private final long limit;
    private final long intervalMicros;
    private final long toleranceMicros;
    private final byte[] intervalArg;
    private final byte[] toleranceArg;

    /** @param scope names the route (listener/route): buckets of different routes never mix */
    public RedisRateLimiter(RedisClients redis, String scope, long limit, Duration per, long burst) {
        this.redis = redis;
        this.prefix = "portcullis:rl:" + scope + ":";
        this.limit = limit;
        this.intervalMicros = Math.max(1, per.toNanos() / 1000 / limit);
        this.toleranceMicros = intervalMicros > (Long.MAX_VALUE / 4) / burst ? Long.MAX_VALUE / 4
                : intervalMicros * burst;
        this.intervalArg = Long.toString(intervalMicros).getBytes(StandardCharsets.US_ASCII);
        this.toleranceArg = Long.toString(toleranceMicros).getBytes(StandardCharsets.US_ASCII);
    }

    /** The decision for one request of {@code key}; fails when Redis is not reachable or too slow. */
    public CompletableFuture<LocalRateLimiter.Decision> acquire(String key) {
        RedisClusterAsyncCommands<String, byte[]> c = redis.commands();
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        }
        String bucket = "{" + prefix + key + "}";
        CompletableFuture<List<Object>> reply = c.<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI,
                new String[] {bucket}, intervalArg, toleranceArg).toCompletableFuture();
        return reply.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).thenApply(this::decision);
    }

    private LocalRateLimiter.Decision decision(List<Object> r) {
        boolean allowed = ((Number) r.get(0)).longValue() == 1;
        long ahead = ((Number) r.get(1)).longValue();
        if (allowed) {
            return new LocalRateLimiter.Decision(true, limit, (toleranceMicros - ahead) / intervalMicros,
                    seconds(ahead), 0);
        }
        return new LocalRateLimiter.Decision(false, limit, 0, seconds(ahead), seconds(((Number) r.get(2))
                .longValue()));
    }

    private static long seconds(long micros) {
        return micros <= 0 ? 0 : (micros + 999_999) / 1_000_000;
    }
}
