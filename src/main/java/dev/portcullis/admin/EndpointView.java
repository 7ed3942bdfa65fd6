package dev.portcullis.admin;

/**
 * One endpoint of an upstream as {@code GET /api/v1/upstreams} shows it.
 *
 * @param health                  "healthy", "unhealthy" (active checks), "ejected" (outlier detection),
 *                                "draining" (admin API or agent), "down" (its agent said so)
 * @param checked                 whether active health checks run for it
 * @param weight                  as configured
 * @param effectiveWeight         what balancing uses now, in percent of a weight-1 endpoint (agent and slow start)
 * @param ejectedUntilEpochMillis null unless outlier detection has ejected it
 */
public record EndpointView(String address, int weight, int effectiveWeight, boolean backup, String health,
                           boolean checked, long activeRequests, long failures, int consecutiveFailures,
                           int ejections, Long ejectedUntilEpochMillis, boolean drained, int agentWeightPercent) {}
