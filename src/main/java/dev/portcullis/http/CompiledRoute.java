package dev.portcullis.http;

import dev.portcullis.config.RetryConfig;
import dev.portcullis.http.filter.FilterChain;
import dev.portcullis.observe.MirrorStats;
import dev.portcullis.observe.RouteStats;
import dev.portcullis.upstream.Upstream;

/**
 * A route ready for the hot path: its filters sorted by phase, its target resolved to objects, its metrics
 * handle resolved. Built once per config load.
 *
 * @param timeoutNanos whole-response deadline; 0 when the route sets none
 * @param retry        never null
 * @param mirror       null when the route mirrors nothing
 * @param cache        null when the route does not cache
 */
public record CompiledRoute(String name, RouteTarget target, FilterChain filters, RouteStats stats,
                            long timeoutNanos, RetryConfig retry, Mirror mirror, RouteCache cache,
                            dev.portcullis.http.gateway.RouteGate gate) {

    /** A route without gateway checks. */
    public CompiledRoute(String name, RouteTarget target, FilterChain filters, RouteStats stats, long timeoutNanos,
                         RetryConfig retry, Mirror mirror, RouteCache cache) {
        this(name, target, filters, stats, timeoutNanos, retry, mirror, cache, null);
    }

    /**
     * Copies of {@code percent} of requests go to {@code upstream}.
     *
     * @param timeoutNanos how long a copy may take before it is given up (the route's timeout, else 15 s)
     */
    public record Mirror(Upstream upstream, double percent, long timeoutNanos, MirrorStats stats) {
        public static final long DEFAULT_TIMEOUT_NANOS = 15_000_000_000L;
    }

    /** The metrics of a request that went to {@code used} (null: none): a split route counts per upstream. */
    public RouteStats statsFor(Upstream used) {
        if (used != null && target instanceof RouteTarget.Split s) {
            Upstream[] ups = s.upstreams();
            for (int i = 0; i < ups.length; i++) {
                if (ups[i] == used) {
                    return s.stats()[i];
                }
            }
        }
        return stats;
    }

    /** The upstream name for logs and metrics, or "-" when the route answers itself. */
    public String upstreamName() {
        if (target instanceof RouteTarget.ToUpstream u) {
            return u.upstream().name();
        }
        return target instanceof RouteTarget.Split s ? s.label() : "-";
    }
}
