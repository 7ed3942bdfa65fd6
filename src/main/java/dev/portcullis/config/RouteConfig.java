package dev.portcullis.config;

import java.time.Duration;

/**
 * One route: match + filters + action.
 *
 * @param headers  never null (empty ops when not set)
 * @param rewrite  null when not set
 * @param timeout  whole-response deadline; null when not set (no deadline, only idle timeouts apply)
 * @param retry    never null ({@link RetryConfig#DEFAULT} when not set)
 * @param mirror   null when not set
 * @param cache    null when not set (or {@code cache: off})
 * @param compress null when not set (or {@code compress: false})
 * @param gateway  access, cors, auth and rate_limit; {@link GatewayConfig#NONE} when none is set
 */
public record RouteConfig(
        String name,
        MatchConfig match,
        HeadersConfig headers,
        RewriteConfig rewrite,
        RouteAction action,
        Duration timeout,
        RetryConfig retry,
        MirrorConfig mirror,
        RouteCacheConfig cache,
        CompressConfig compress,
        GatewayConfig gateway) {
    /** A route without gateway keys. */
    public RouteConfig(String name, MatchConfig match, HeadersConfig headers, RewriteConfig rewrite, RouteAction action,
                       Duration timeout, RetryConfig retry, MirrorConfig mirror, RouteCacheConfig cache,
                       CompressConfig compress) {
        this(name, match, headers, rewrite, action, timeout, retry, mirror, cache, compress, GatewayConfig.NONE);
    }
}
