package dev.portcullis.config;

import java.time.Duration;
import java.util.List;

/**
 * One entry of {@code upstreams}: endpoints, how requests are spread over them, how their health is judged and
 * how much load they may take. Protocol-free: L7 routes and (later) L4 listeners share it.
 *
 * @param hashOn          what {@code consistent_hash} hashes; null for other balancers
 * @param discovery       null when endpoints come only from the list
 * @param sticky          null without session persistence
 * @param healthCheck     null without active checks
 * @param outlierDetection null without passive ejection
 * @param slowStart       ramp-up window of a new or recovered endpoint; zero for none
 * @param circuitBreaker  never null ({@link CircuitBreaker#UNLIMITED} when not set)
 * @param panicThreshold  0..100: below this share of healthy primaries, balance over all of them
 * @param connection      protocol and TLS towards the endpoints
 */
public record UpstreamConfig(
        String name,
        List<EndpointConfig> endpoints,
        Balance balance,
        HashOn hashOn,
        HashMethod hashMethod,
        Discovery discovery,
        Sticky sticky,
        HealthCheck healthCheck,
        OutlierDetection outlierDetection,
        Duration slowStart,
        CircuitBreaker circuitBreaker,
        double panicThreshold,
        Duration connectTimeout,
        Keepalive keepalive,
        UpstreamConnectionConfig connection) {

    /** Clear-text HTTP/1.1 to the endpoints. */
    public UpstreamConfig(String name, List<EndpointConfig> endpoints, Balance balance, HashOn hashOn,
                          HashMethod hashMethod, Discovery discovery, Sticky sticky, HealthCheck healthCheck,
                          OutlierDetection outlierDetection, Duration slowStart, CircuitBreaker circuitBreaker,
                          double panicThreshold, Duration connectTimeout, Keepalive keepalive) {
        this(name, endpoints, balance, hashOn, hashMethod, discovery, sticky, healthCheck, outlierDetection, slowStart,
                circuitBreaker, panicThreshold, connectTimeout, keepalive, UpstreamConnectionConfig.DEFAULT);
    }

    public enum Balance {
        ROUND_ROBIN("round_robin"), LEAST_CONNECTIONS("least_connections"), RANDOM("random"),
        POWER_OF_TWO("power_of_two"), CONSISTENT_HASH("consistent_hash"), PEAK_EWMA("peak_ewma");

        public final String key;

        Balance(String key) {
            this.key = key;
        }
    }

    public enum HashMethod { MAGLEV, RING }

    /** What {@code consistent_hash} keys on. */
    public sealed interface HashOn {
        record SourceIp() implements HashOn {}

        record Header(String name) implements HashOn {}

        record Cookie(String name) implements HashOn {}

        record Query(String name) implements HashOn {}

        record Uri() implements HashOn {}
    }

    /** @param weight 1..1000, default 1 */
    public record EndpointConfig(HostPort address, int weight, boolean backup) {}

    /** Endpoints from the A/AAAA records of {@code host}, re-resolved every {@code refresh}. */
    public record Discovery(String host, int port, Duration refresh) {}

    /**
     * @param secret HMAC key of the cookie; null: a random key per process (cookies do not survive a restart)
     */
    public record Sticky(String cookie, Duration ttl, String secret) {}

    /**
     * @param http  null unless the probe is an HTTP request
     * @param tcp   the probe is a TCP connect; with neither http nor tcp only the agent (if any) judges the endpoint
     * @param agent null without an agent check
     */
    public record HealthCheck(HttpCheck http, boolean tcp, Duration interval, Duration timeout, int healthyThreshold,
                              int unhealthyThreshold, Agent agent) {}

    /** @param expect inclusive status ranges; {@code host} null: the endpoint's address */
    public record HttpCheck(String path, List<StatusRange> expect, String host) {}

    public record StatusRange(int from, int to) {
        public boolean contains(int status) {
            return status >= from && status <= to;
        }
    }

    /** HAProxy's agent-check: a line from {@code port} such as {@code 75%}, {@code up}, {@code drain}, {@code down}. */
    public record Agent(int port, Duration interval) {}

    /** @param maxEjectedPercent 0..100 of the upstream's endpoints */
    public record OutlierDetection(int consecutiveFailures, Duration ejectionTime, double maxEjectedPercent) {}

    /** 0 means no limit. */
    public record CircuitBreaker(int maxConnections, int maxPending, int maxRequests) {
        public static final CircuitBreaker UNLIMITED = new CircuitBreaker(0, 0, 0);
    }

    /** Defaults: 64 idle connections per endpoint and event loop, 60s. */
    public record Keepalive(int maxIdlePerEndpoint, Duration idleTimeout) {
        public static final Keepalive DEFAULTS = new Keepalive(64, Duration.ofSeconds(60));
    }

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final double DEFAULT_PANIC_THRESHOLD = 50;
}
