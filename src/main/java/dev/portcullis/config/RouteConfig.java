package dev.portcullis.config;

import java.time.Duration;

/**
 * One route: match + filters + action.
 *
 * @param headers  never null (empty ops when not set)
 * @param rewrite  null when not set
 * @param timeout  whole-response deadline; null when not set (no deadline, only idle timeouts apply)
 */
public record RouteConfig(
        String name,
        MatchConfig match,
        HeadersConfig headers,
        RewriteConfig rewrite,
        RouteAction action,
        Duration timeout) {
}
