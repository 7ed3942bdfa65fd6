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
    private final dev.portcullis.observe.GatewayStats stats;

    /**
     * @throws dev.portcullis.auth.Htpasswd.InvalidFileException for an unusable htpasswd file
     * @throws IllegalArgumentException for an unusable JWKS file
     */
    public RouteGate(String route, GatewayConfig cfg, ConsumerDirectory consumers, Executor passwordChecks,
                     dev.portcullis.observe.GatewayStats stats) {
        this.stats = stats;
        this.allow = cfg.access() == null ? new Cidr[0] : cfg.access().allow().stream().map(Cidr::parse)
                .toArray(Cidr[]::new);
        this.deny = cfg.access() == null ? new Cidr[0] : cfg.access().deny().stream().map(Cidr::parse)
                .toArray(Cidr[]::new);
        this.cors = cfg.cors() == null ? null : new CorsPolicy(cfg.cors());
        this.auth = cfg.auth() == null ? null : new Authenticator(cfg.auth(), consumers, passwordChecks, route);
        this.rateConfig = cfg.rateLimit();
        this.limiter = rateConfig == null ? null : new LocalRateLimiter(rateConfig.limit(), rateConfig.per(),
                rateConfig.burst());
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
        if (limiter != null) {
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
        if (!allowed(ex.clientAddress())) {
            return new GateDecision.Refuse("access", LocalReply.jsonError(403, "client " + ex.clientIp()
                    + " may not use this route (access)"));
        }
        if (cors != null && CorsPolicy.isPreflight(ex.request())) {
            return cors.preflight(ex);
        }
        if (auth != null) {
            GateDecision d = auth.authenticate(ex);
            if (d != GateDecision.PASS) {
                return d;
            }
        }
        return limit(ex);
    }

    /** {@code rate_limit}: the request counts against its key's bucket; 429 when the bucket is empty. */
    public GateDecision limit(Exchange ex) {
        if (limiter == null) {
            return GateDecision.PASS;
        }
        String key = key(ex);
        if (key == null) {
            return GateDecision.PASS; // header:NAME without the header: nothing to count it by
        }
        LocalRateLimiter.Decision d = limiter.acquire(key, System.nanoTime());
        if (d.allowed()) {
            ex.rateLimit(d, limiter.policy());
            return GateDecision.PASS;
        }
        LocalReply r = LocalReply.jsonError(429, "rate limit of " + rateConfig.limit() + " requests per "
                + per() + " exceeded; retry in " + d.retryAfterSeconds() + " s")
                .header(HttpHeaderNames.RETRY_AFTER, Long.toString(d.retryAfterSeconds()));
        RateLimitHeaders.add(r, d, limiter.policy());
        return new GateDecision.Refuse("rate_limit", r);
    }

    private String per() {
        long s = rateConfig.per().toSeconds();
        return s == 1 ? "second" : s == 60 ? "minute" : s == 3600 ? "hour" : "day";
    }

    private String key(Exchange ex) {
        GatewayConfig.RateKey k = rateConfig.key();
        if (k instanceof GatewayConfig.ClientIp) {
            return ex.clientIp();
        }
        if (k instanceof GatewayConfig.Consumer) {
            Consumer c = ex.consumer();
            return c != null ? "consumer:" + c.name() : "ip:" + ex.clientIp();
        }
        if (k instanceof GatewayConfig.Header h) {
            return ex.request().headers().get(h.name());
        }
        return "route";
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
