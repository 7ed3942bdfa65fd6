package dev.portcullis.http.gateway;

import dev.portcullis.http.LocalReply;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * The rate limit headers of the IETF httpapi draft as most gateways send them: {@code RateLimit-Limit},
 * {@code RateLimit-Remaining}, {@code RateLimit-Reset} (seconds until the bucket is full again) and
 * {@code RateLimit-Policy} ({@code LIMIT;w=WINDOW_SECONDS}), on answers that passed and on 429s alike.
 */
public final class RateLimitHeaders {
    public static final String LIMIT = "RateLimit-Limit";
    public static final String REMAINING = "RateLimit-Remaining";
    public static final String RESET = "RateLimit-Reset";
    public static final String POLICY = "RateLimit-Policy";

    private RateLimitHeaders() {
    }

    public static void add(HttpHeaders h, LocalRateLimiter.Decision d, String policy) {
        h.set(LIMIT, Long.toString(d.limit()));
        h.set(REMAINING, Long.toString(d.remaining()));
        h.set(RESET, Long.toString(d.resetSeconds()));
        h.set(POLICY, policy);
    }

    static void add(LocalReply r, LocalRateLimiter.Decision d, String policy) {
        r.header(LIMIT, Long.toString(d.limit()));
        r.header(REMAINING, Long.toString(d.remaining()));
        r.header(RESET, Long.toString(d.resetSeconds()));
        r.header(POLICY, policy);
    }
}
