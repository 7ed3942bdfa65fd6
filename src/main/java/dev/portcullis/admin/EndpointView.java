package dev.portcullis.admin;

/**
 * One endpoint of an upstream as {@code GET /api/v1/upstreams} shows it.
 *
 * @param health                  such as "healthy", "unhealthy", "ejected", "draining", "unknown"
 * @param ejectedUntilEpochMillis null unless outlier detection has ejected it
 */
public record EndpointView(String address, int weight, boolean backup, String health, long activeRequests,
                           long failures, Long ejectedUntilEpochMillis) {}
