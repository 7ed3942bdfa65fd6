package dev.portcullis.config;

import java.util.List;

/**
 * One entry of {@code listeners}. Routes already carry the listener's {@code defaults}.
 *
 * @param tls set exactly for {@code protocol: https}
 */
public record ListenerConfig(
        String name,
        HostPort bind,
        Protocol protocol,
        Mode mode,
        ListenerLimits limits,
        List<RouteConfig> routes,
        ListenerTls tls,
        Http2Settings http2) {

    /** A plain http listener without TLS and with the default HTTP/2 settings. */
    public ListenerConfig(String name, HostPort bind, Protocol protocol, Mode mode, ListenerLimits limits,
                          List<RouteConfig> routes) {
        this(name, bind, protocol, mode, limits, routes, null, Http2Settings.DEFAULTS);
    }

    public enum Protocol { HTTP, HTTPS }

    public enum Mode { REVERSE }
}
