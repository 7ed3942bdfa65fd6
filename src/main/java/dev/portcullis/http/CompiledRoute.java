package dev.portcullis.http;

import dev.portcullis.http.filter.FilterChain;
import dev.portcullis.observe.RouteStats;

/**
 * A route ready for the hot path: its filters sorted by phase, its target resolved to objects, its metrics
 * handle resolved. Built once per config load.
 *
 * @param timeoutNanos whole-response deadline; 0 when the route sets none
 */
public record CompiledRoute(String name, RouteTarget target, FilterChain filters, RouteStats stats,
                            long timeoutNanos) {

    /** The upstream name for logs and metrics, or "-" when the route answers itself. */
    public String upstreamName() {
        return target instanceof RouteTarget.ToUpstream u ? u.upstream().name() : "-";
    }
}
