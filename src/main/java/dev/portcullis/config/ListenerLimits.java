package dev.portcullis.config;

import java.time.Duration;

/**
 * {@code listeners[].limits}. Defaults (nginx-like): max_connections 10000, header_read_timeout 10s,
 * idle_timeout 60s, max_header_size 32KiB, max_request_line 8KiB, max_body_size 100MiB.
 */
public record ListenerLimits(
        int maxConnections,
        Duration headerReadTimeout,
        Duration idleTimeout,
        int maxHeaderSize,
        int maxRequestLine,
        long maxBodySize) {

    public static final ListenerLimits DEFAULTS = new ListenerLimits(
            10_000, Duration.ofSeconds(10), Duration.ofSeconds(60), 32 * 1024, 8 * 1024, 100L * 1024 * 1024);
}
