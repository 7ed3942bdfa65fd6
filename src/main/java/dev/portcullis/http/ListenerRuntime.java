package dev.portcullis.http;

import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.router.RouteTable;
import dev.portcullis.tls.ServerTls;

/**
 * A listener as one config snapshot sees it: its routes compiled into a table, its limits, and its TLS contexts.
 *
 * @param tls     null for a plain http listener
 * @param forward set for a {@code mode: forward} listener (then there are no routes)
 */
public record ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes, ServerTls tls,
                              ForwardRuntime forward) {
    public ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes) {
        this(config, routes, null, null);
    }

    public ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes, ServerTls tls) {
        this(config, routes, tls, null);
    }

    public ListenerLimits limits() {
        return config.limits();
    }

    public String name() {
        return config.name();
    }
}
