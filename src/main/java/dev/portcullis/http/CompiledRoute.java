package dev.portcullis.http;

import dev.portcullis.config.RetryConfig;
import dev.portcullis.http.filter.FilterChain;
import dev.portcullis.observe.RouteStats;
import dev.portcullis.upstream.Upstream;

/**
 * A route ready for the hot path: its filters sorted by phase, its target resolved to objects, its metrics
 * handle resolved. Built once per config load.
 *
 * @param timeoutNanos whole-response deadline; 0 when the route sets none
 * @param retry        never null
 * @param mirror       null when the route mirrors nothing
 */
public record CompiledRoute(String name, RouteTarget target, FilterChain filters, RouteStats stats,
                            long timeoutNanos, RetryConfig retry, Mirror mirror) {

    /** Copies of {@code percent} of requests go to {@code upstream}. */
    public record Mirror(Upstream upstream, double percent) {}

    /** The upstream name for logs and metrics, or "-" when the route answers itself. */
    public String upstreamName() {
        if (target instanceof RouteTarget.ToUpstream u) {
            return u.upstream().name();
        }
        return target instanceof RouteTarget.Split s ? s.label() : "-";
    }
}
