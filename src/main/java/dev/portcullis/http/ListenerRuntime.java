package dev.portcullis.http;

import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.router.RouteTable;
import dev.portcullis.tls.ServerTls;

/**
 * A listener as one config snapshot sees it: its routes compiled into a table, its limits, and its TLS contexts.
 *
 * @param tls null for a plain http listener
 */
public record ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes, ServerTls tls) {
    public ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes) {
        this(config, routes, null);
    }

    public ListenerLimits limits() {
        return config.limits();
    }

    public String name() {
        return config.name();
    }
}
