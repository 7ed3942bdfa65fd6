package dev.portcullis.config;

import java.time.Duration;
import java.util.List;

/** One entry of {@code upstreams}. Only round robin for now. */
public record UpstreamConfig(
        String name,
        List<EndpointConfig> endpoints,
        Balance balance,
        Duration connectTimeout,
        Keepalive keepalive) {

    public enum Balance { ROUND_ROBIN }

    /** @param weight 1..1000, default 1 */
    public record EndpointConfig(HostPort address, int weight, boolean backup) {}

    /** Defaults: 64 idle connections per endpoint and event loop, 60s. */
    public record Keepalive(int maxIdlePerEndpoint, Duration idleTimeout) {
        public static final Keepalive DEFAULTS = new Keepalive(64, Duration.ofSeconds(60));
    }

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
}
