package dev.portcullis.config;

import java.util.List;

/** One entry of {@code listeners}. Routes already carry the listener's {@code defaults}. */
public record ListenerConfig(
        String name,
        HostPort bind,
        Protocol protocol,
        Mode mode,
        ListenerLimits limits,
        List<RouteConfig> routes) {

    public enum Protocol { HTTP }

    public enum Mode { REVERSE }
}
