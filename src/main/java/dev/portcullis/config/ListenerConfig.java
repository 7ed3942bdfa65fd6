package dev.portcullis.config;

import java.util.List;

/**
 * One entry of {@code listeners}. Routes already carry the listener's {@code defaults}.
 *
 * @param mode    {@code FORWARD} for {@code mode: forward} and for {@code protocol: socks5}
 * @param tls     set exactly for {@code protocol: https}
 * @param forward set exactly for {@code mode: forward} and {@code protocol: socks5} (then there are no routes)
 */
public record ListenerConfig(
        String name,
        HostPort bind,
        Protocol protocol,
        Mode mode,
        ListenerLimits limits,
        List<RouteConfig> routes,
        ListenerTls tls,
        Http2Settings http2,
        ForwardConfig forward) {

    /** A plain http listener without TLS and with the default HTTP/2 settings. */
    public ListenerConfig(String name, HostPort bind, Protocol protocol, Mode mode, ListenerLimits limits,
                          List<RouteConfig> routes) {
        this(name, bind, protocol, mode, limits, routes, null, Http2Settings.DEFAULTS, null);
    }

    public ListenerConfig(String name, HostPort bind, Protocol protocol, Mode mode, ListenerLimits limits,
                          List<RouteConfig> routes, ListenerTls tls, Http2Settings http2) {
        this(name, bind, protocol, mode, limits, routes, tls, http2, null);
    }

    /** {@code SOCKS5}: RFC 1928 CONNECT under the {@code forward} rules; no HTTP, routes or TLS. */
    public enum Protocol { HTTP, HTTPS, SOCKS5 }

    public enum Mode { REVERSE, FORWARD }
}
