package dev.portcullis.http;

import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.router.RouteTable;
import dev.portcullis.tls.ServerTls;
import java.util.List;

/**
 * A listener as one config snapshot sees it: its routes compiled into a table, its limits, and its TLS contexts.
 *
 * @param tls     null for a plain http listener
 * @param forward set for a {@code mode: forward} listener (then there are no routes)
 * @param caches  the distinct caches of the listener's routes: an unsafe request invalidates its target in each
 *                (RFC 9111 section 4.4), whichever route it took
 */
public record ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes, ServerTls tls,
                              ForwardRuntime forward, List<RouteCache> caches) {
    public ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes) {
        this(config, routes, null, null, List.of());
    }

    public ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes, ServerTls tls) {
        this(config, routes, tls, null, List.of());
    }

    public ListenerLimits limits() {
        return config.limits();
    }

    public String name() {
        return config.name();
    }
}
