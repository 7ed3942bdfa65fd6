package dev.portcullis.http.gateway;

import dev.portcullis.config.GatewayConfig;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.LocalReply;
import dev.portcullis.http.router.Cidr;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.concurrent.Executor;

/**
 * A route's API gateway checks, compiled once per config and run before the route's action (and its cache) in a
 * fixed order: {@code access} (the client's address), a CORS preflight (answered here, before credentials, which
 * browsers never send with one), {@code auth} (who), then {@code rate_limit} (how much). Stateless but for the
 * rate limiter's buckets; shared by every event loop.
 */
public final class RouteGate {
    private final Cidr[] allow;
    private final Cidr[] deny;
    private final CorsPolicy cors;
    private final Authenticator auth;
    private final GatewayConfig.RateLimit rateConfig;
    private final LocalRateLimiter limiter;
    /** {@code store: redis}: the limit shared by every instance; null for a local one. */
    private final RedisRateLimiter shared;
    private final String policy;
    private final dev.portcullis.observe.GatewayStats stats;
    /** The limit's key does not depend on who authenticated: counted first (see {@link #check}). */
    private final boolean limitsBeforeAuth;

    /**
     * @throws dev.portcullis.auth.Htpasswd.InvalidFileException for an unusable htpasswd file
     * @throws IllegalArgumentException for an unusable JWKS file
     */
    public RouteGate(String route, GatewayConfig cfg, ConsumerDirectory consumers, Executor passwordChecks,
                     dev.portcullis.observe.GatewayStats stats, dev.portcullis.redis.RedisClients redis) {
        this.stats = stats;
        this.allow = cfg.access() == null ? new Cidr[0] : cfg.access().allow().stream().map(Cidr::parse)
                .toArray(Cidr[]::new);
        this.deny = cfg.access() == null ? new Cidr[0] : cfg.access().deny().stream().map(Cidr::parse)
                .toArray(Cidr[]::new);
        this.cors = cfg.cors() == null ? null : new CorsPolicy(cfg.cors());
        this.auth = cfg.auth() == null ? null : new Authenticator(cfg.auth(), consumers, passwordChecks, route);
        this.rateConfig = cfg.rateLimit();
        // no Redis client when the config is only checked (validate): a local limiter stands in, never used
        boolean redisStore = rateConfig != null && rateConfig.store() == GatewayConfig.RateLimit.Store.REDIS
                && redis != null;
        this.limiter = rateConfig == null || redisStore ? null : new LocalRateLimiter(rateConfig.limit(),
                rateConfig.per(), rateConfig.burst());
        this.shared = redisStore ? new RedisRateLimiter(redis, route, rateConfig.limit(), rateConfig.per(),
                rateConfig.burst()) : null;
        this.policy = rateConfig == null ? null : LocalRateLimiter.policy(rateConfig.limit(), rateConfig.per(),
                rateConfig.burst());
        this.limitsBeforeAuth = rateConfig != null && !(rateConfig.key() instanceof GatewayConfig.Consumer);
    }

    /** The route's gateway counters. */
    public dev.portcullis.observe.GatewayStats stats() {
        return stats;
    }

    /** The CORS policy, which also adds its headers to responses (a response filter); null without {@code cors}. */
    public CorsPolicy cors() {
        return cors;
    }

    /** The response filters the gate brings: CORS headers, and the rate limit headers of a limited route. */
    public java.util.List<dev.portcullis.http.filter.HttpFilter> responseFilters() {
        java.util.List<dev.portcullis.http.filter.HttpFilter> out = new java.util.ArrayList<>();
        if (cors != null) {
            out.add(cors);
        }
        if (rateConfig != null) {
            out.add(new dev.portcullis.http.filter.HttpFilter() {
                @Override
                public dev.portcullis.http.filter.Phase phase() {
                    return dev.portcullis.http.filter.Phase.RESPONSE;
                }

                @Override
                public void onResponse(Exchange ex, io.netty.handler.codec.http.HttpResponse response) {
                    if (ex.rateDecision() != null) {
                        RateLimitHeaders.add(response.headers(), ex.rateDecision(), ex.ratePolicy());
                    }
                }
            });
        }
        return out;
    }

    /** The checks up to and including authentication; then {@link #limit} (after a pending auth too). */
    public GateDecision check(Exchange ex) {
        if (auth != null) {
            auth.maskQueryKeys(ex);
        }
        if (!allowed(ex.clientAddress())) {
            return new GateDecision.Refuse("access", LocalReply.jsonError(403, "client " + ex.clientIp()
                    + " may not use this route (access)"));
        }
        if (cors != null && CorsPolicy.isPreflight(ex.request())) {
            return cors.preflight(ex);
        }
        if (limitsBeforeAuth) {
            // counted before credentials are checked: failed logins count too, and a flood of wrong passwords
            // is refused before it reaches the password-check threads
            return then(limit(ex), () -> then(authenticate(ex), () -> consumerLimit(ex)));
        }
        return then(authenticate(ex), () -> then(consumerLimit(ex), () -> limit(ex)));
    }

    private GateDecision authenticate(Exchange ex) {
        return auth == null ? GateDecision.PASS : auth.authenticate(ex);
    }

    /** The authenticated consumer's own {@code rate_limit}, over every route that authenticates it. */
    private GateDecision consumerLimit(Exchange ex) {
        Consumer c = ex.consumer();
        if (c == null || c.limiter() == null) {
            return GateDecision.PASS;
        }
        LocalRateLimiter.Decision d = c.limiter().acquire("consumer", System.nanoTime());
        if (d.allowed()) {
            return GateDecision.PASS;
        }
        LocalReply r = LocalReply.jsonError(429, "consumer '" + c.name() + "' is over its rate limit of "
                + d.limit() + " requests; retry in " + d.retryAfterSeconds() + " s")
                .header(HttpHeaderNames.RETRY_AFTER, Long.toString(d.retryAfterSeconds()));
        RateLimitHeaders.add(r, d, c.limiter().policy());
        return new GateDecision.Refuse("rate_limit", r);
    }

    /**
     * {@code first}, then {@code next} when it passes: the final decision at once when neither waits, else one
     * {@link GateDecision.Pending} for it. Waiting steps complete on the exchange's event loop, so {@code next}
     * runs there too.
     */
    private static GateDecision then(GateDecision first, java.util.function.Supplier<GateDecision> next) {
        if (first == GateDecision.PASS) {
            return next.get();
        }
        if (first instanceof GateDecision.Pending p) {
            return new GateDecision.Pending(p.decision().thenCompose(d -> d == GateDecision.PASS ? future(next.get())
                    : java.util.concurrent.CompletableFuture.completedFuture(d)));
        }
        return first;
    }

    private static java.util.concurrent.CompletableFuture<GateDecision> future(GateDecision d) {
        return d instanceof GateDecision.Pending p ? p.decision()
                : java.util.concurrent.CompletableFuture.completedFuture(d);
    }

    /** {@code rate_limit}: the request counts against its key's bucket; 429 when the bucket is empty. */
    public GateDecision limit(Exchange ex) {
        if (limiter == null && shared == null) {
            return GateDecision.PASS;
        }
        String key = key(ex);
        if (key == null) {
            return GateDecision.PASS; // header:NAME without the header: nothing to count it by
        }
        if (shared != null) {
            return new GateDecision.Pending(shared.acquire(key).handleAsync((d, err) -> err != null
                    ? redisFailed(ex, err) : decided(ex, d), ex.executor()));
        }
        return decided(ex, limiter.acquire(key, System.nanoTime()));
    }

    /** Redis did not answer: {@code on_redis_error} decides, counted and logged (at most every 30 s). */
    private GateDecision redisFailed(Exchange ex, Throwable err) {
        boolean allow = rateConfig.onRedisError() == GatewayConfig.RateLimit.OnRedisError.ALLOW;
        stats.redisError(allow);
        Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause() : err;
        REDIS_WARNINGS.warn("route {}: the shared rate limit could not be checked in Redis ({}); requests are {} "
                + "(rate_limit.on_redis_error: {}) until it answers again", ex.route().name(), c.toString(),
                allow ? "let through unlimited" : "refused with 503", allow ? "allow" : "deny");
        if (allow) {
            return GateDecision.PASS;
        }
        return new GateDecision.Refuse("rate_limit", LocalReply.jsonError(503,
                "the rate limit cannot be checked now; try again"));
    }

    private static final dev.portcullis.redis.RateLimitedLog REDIS_WARNINGS = new dev.portcullis.redis.RateLimitedLog(
            org.slf4j.LoggerFactory.getLogger(RouteGate.class), java.time.Duration.ofSeconds(30));

    private GateDecision decided(Exchange ex, LocalRateLimiter.Decision d) {
        if (d.allowed()) {
            ex.rateLimit(d, policy);
            return GateDecision.PASS;
        }
        LocalReply r = LocalReply.jsonError(429, "rate limit of " + rateConfig.limit() + " requests per "
                + per() + " exceeded; retry in " + d.retryAfterSeconds() + " s")
                .header(HttpHeaderNames.RETRY_AFTER, Long.toString(d.retryAfterSeconds()));
        RateLimitHeaders.add(r, d, policy);
        return new GateDecision.Refuse("rate_limit", r);
    }

    private String per() {
        long s = rateConfig.per().toSeconds();
        return s == 1 ? "second" : s == 60 ? "minute" : s == 3600 ? "hour" : "day";
    }

    private String key(Exchange ex) {
        GatewayConfig.RateKey k = rateConfig.key();
        if (k instanceof GatewayConfig.ClientIp) {
            return clientKey(ex.clientAddress());
        }
        if (k instanceof GatewayConfig.Consumer) {
            Consumer c = ex.consumer();
            return c != null ? "consumer:" + c.name() : clientKey(ex.clientAddress());
        }
        if (k instanceof GatewayConfig.Header h) {
            String v = ex.request().headers().get(h.name());
            // a long value is kept as its hash: the bucket table's memory does not grow with what clients send
            return v == null || v.length() <= MAX_KEY_CHARS ? v : sha256(v);
        }
        return "route";
    }

    static final int MAX_KEY_CHARS = 64;

    /**
     * An IPv4 client by its address; an IPv6 client by its /64, the block one subscriber gets (anything finer
     * would let a client take a fresh bucket per address of its block).
     */
    static String clientKey(byte[] address) {
        if (address.length == 16) {
            return "v6:" + java.util.HexFormat.of().formatHex(address, 0, 8);
        }
        return io.netty.util.NetUtil.bytesToIpAddress(address);
    }

    private static String sha256(String v) {
        try {
            return "h:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean allowed(byte[] address) {
        for (Cidr c : deny) {
            if (c.contains(address)) {
                return false;
            }
        }
        if (allow.length == 0) {
            return true;
        }
        for (Cidr c : allow) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
