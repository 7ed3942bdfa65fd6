package dev.portcullis.http;

import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.router.RouteTable;

/** A listener as one config snapshot sees it: its routes compiled into a table, and its limits. */
public record ListenerRuntime(ListenerConfig config, RouteTable<CompiledRoute> routes) {
    public ListenerLimits limits() {
        return config.limits();
    }

    public String name() {
        return config.name();
    }
}
