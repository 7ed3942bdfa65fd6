package dev.portcullis.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code listeners[]}. */
final class ListenerReader {
    static final List<String> KEYS = List.of("name", "bind", "protocol", "mode", "limits", "defaults", "routes", "tls",
            "http2", "forward");
    static final List<String> UNSUPPORTED = List.of(
            "upstream", "idle_timeout", "accept_proxy_protocol", "sni_routes", "session_timeout");
    static final List<String> LIMIT_KEYS = List.of(
            "max_connections", "header_read_timeout", "idle_timeout", "max_header_size", "max_request_line", "max_body_size");
    static final List<String> PROTOCOLS_LATER = List.of("tcp", "udp");
    /** Limits that bound HTTP messages; SOCKS5 messages have fixed bounds (at most 513 bytes). */
    static final List<String> HTTP_ONLY_LIMITS = List.of("max_header_size", "max_request_line", "max_body_size");
    static final List<String> HTTP2_KEYS = List.of("enabled", "max_concurrent_streams", "initial_window_size");

    private final Semantics semantics;
    private final RouteReader routes;

    ListenerReader(Semantics semantics) {
        this.semantics = semantics;
        this.routes = new RouteReader(semantics);
    }

    ListenerConfig read(Section l, int index) {
        l.keys(KEYS, UNSUPPORTED);
        String name = l.requiredString("name");
        if (name != null && !Values.isName(name)) {
            l.error("name", "invalid name '" + name + "'; use letters, digits, '_', '.' and '-'");
        }
        if (name != null) {
            semantics.listenerName(name, l.line("name"), l.path("name"));
        }
        HostPort bind = null;
        if (l.has("bind")) {
            bind = l.address("bind", null, true);
            if (bind != null) {
                semantics.listenerBind(name, bind, l.line("bind"), l.path("bind"));
            }
        } else {
            l.missing("bind");
        }
        ListenerConfig.Protocol protocol = l.parse("protocol", ListenerConfig.Protocol.HTTP, "a protocol", s -> {
            String p = s.trim().toLowerCase(Locale.ROOT);
            if (p.equals("http")) {
                return ListenerConfig.Protocol.HTTP;
            }
            if (p.equals("https")) {
                return ListenerConfig.Protocol.HTTPS;
            }
            if (p.equals("socks5")) {
                return ListenerConfig.Protocol.SOCKS5;
            }
            if (PROTOCOLS_LATER.contains(p)) {
                throw new IllegalArgumentException("protocol '" + s + "' is not supported in this version yet");
            }
            throw new IllegalArgumentException("unknown protocol '" + s + "'; expected http, https or socks5");
        });
        if (protocol == ListenerConfig.Protocol.SOCKS5) {
            return socks5(l, name, bind);
        }
        ListenerConfig.Mode mode = l.parse("mode", ListenerConfig.Mode.REVERSE, "a mode", s -> {
            String m = s.trim().toLowerCase(Locale.ROOT);
            if (m.equals("reverse")) {
                return ListenerConfig.Mode.REVERSE;
            }
            if (m.equals("forward")) {
                return ListenerConfig.Mode.FORWARD;
            }
            throw new IllegalArgumentException("unknown mode '" + s + "'; expected reverse or forward");
        });
        ListenerLimits limits = limits(l.section("limits"));
        ListenerTls tls = null;
        if (protocol == ListenerConfig.Protocol.HTTPS) {
            if (l.has("tls")) {
                tls = TlsReader.listener(l.section("tls"));
            } else if (!l.hadUnsupported("protocol")) {
                l.missing("tls");
            }
        } else if (l.has("tls")) {
            l.error("tls", "'tls' needs protocol: https (this listener is " + protocol.name().toLowerCase(Locale.ROOT)
                    + ")");
        }
        Http2Settings http2 = http2(l.section("http2"));

        ForwardConfig forward = null;
        if (mode == ListenerConfig.Mode.FORWARD) {
            Section f = l.section("forward");
            if (protocol == ListenerConfig.Protocol.HTTPS) {
                f.refuse("intercept_tls", "'intercept_tls' needs a forward listener with protocol: http (clients "
                        + "reach it in clear text, as browsers and curl -x do); TLS to the proxy itself and TLS "
                        + "interception inside it are not combined in this version");
            }
            forward = ForwardReader.read(f, semantics);
            for (String key : List.of("routes", "defaults")) {
                if (l.has(key)) {
                    l.error(key, "a forward proxy listener has no '" + key + "': it goes where each request says, "
                            + "within its 'forward' rules");
                }
            }
            return new ListenerConfig(name, bind, protocol, mode, limits, List.of(), tls, http2, forward);
        }
        if (l.has("forward")) {
            l.error("forward", "'forward' needs mode: forward (this listener is a reverse proxy)");
        }

        Section defaults = l.section("defaults");
        routes.checkDefaults(defaults);

        List<RouteConfig> list = new ArrayList<>();
        List<Section.Item> items = l.items("routes", false);
        boolean usable = !l.hadUnsupported("upstream") && !l.hadUnsupported("sni_routes");
        if (!l.has("routes")) {
            if (usable) {
                l.missing("routes");
            }
        } else if (items.isEmpty() && l.node("routes") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode) {
            l.error("routes", "a listener needs at least one route");
        }
        String prefix = name == null ? "listener" + index : name;
        for (int j = 0; j < items.size(); j++) {
            Section.Item item = items.get(j);
            Section route = Section.of(l.errors, item.node(), item.path(), item.node());
            Section merged = route.withDefaults(defaults, RouteReader.ACTIONS);
            RouteConfig rc = routes.read(merged, prefix + "-" + j);
            list.add(rc);
            int nameLine = route.has("name") ? route.line("name") : route.line();
            semantics.routeName(index, rc.name(), nameLine, route.has("name") ? route.path("name") : route.path());
        }
        return new ListenerConfig(name, bind, protocol, mode, limits, List.copyOf(list), tls, http2);
    }

    /**
     * A {@code protocol: socks5} listener: {@code forward} rules and {@code limits}, nothing of HTTP. Keys that only
     * mean something for HTTP are refused, naming why, rather than read and ignored.
     */
    private ListenerConfig socks5(Section l, String name, HostPort bind) {
        l.refuse("mode", "'mode' applies to http and https listeners; a socks5 listener is always a forward proxy, "
                + "with its rules under 'forward'");
        for (String key : List.of("routes", "defaults")) {
            l.refuse(key, "a socks5 listener has no '" + key + "': it goes where each client asks, within its "
                    + "'forward' rules");
        }
        l.refuse("tls", "'tls' needs protocol: https (a socks5 listener is not served over TLS)");
        l.refuse("http2", "'http2' applies to http and https listeners");
        Section limitsSection = l.section("limits");
        for (String key : HTTP_ONLY_LIMITS) {
            limitsSection.refuse(key, "'" + key + "' bounds HTTP messages; a socks5 listener does not read it "
                    + "(SOCKS5 messages are at most 513 bytes)");
        }
        ListenerLimits limits = limits(limitsSection);
        Section f = l.section("forward");
        f.refuse("connect_ports", "'connect_ports' limits HTTP CONNECT tunnels; a socks5 listener does not read it "
                + "(use deny_domains and deny_private_destinations to limit where clients go)");
        f.refuse("anonymize", "'anonymize' removes HTTP header fields; a socks5 listener relays bytes and has none "
                + "to remove");
        f.refuse("cache", "'cache' stores HTTP responses; a socks5 listener relays bytes and has nothing to cache");
        f.refuse("parent", "'parent' is not supported for socks5 listeners yet");
        f.refuse("intercept_tls", "'intercept_tls' is not supported for socks5 listeners");
        ForwardConfig forward = ForwardReader.read(f, semantics);
        return new ListenerConfig(name, bind, ListenerConfig.Protocol.SOCKS5, ListenerConfig.Mode.FORWARD, limits,
                List.of(), null, Http2Settings.DEFAULTS, forward);
    }

    private static Http2Settings http2(Section s) {
        s.keys(HTTP2_KEYS, List.of());
        Http2Settings d = Http2Settings.DEFAULTS;
        Http2Settings read = new Http2Settings(
                s.bool("enabled", d.enabled()),
                s.integer("max_concurrent_streams", d.maxConcurrentStreams(), 1, 10_000),
                (int) s.size("initial_window_size", d.initialWindowSize(), Http2Settings.MAX_WINDOW));
        return read.equals(d) ? d : read;
    }

    private static ListenerLimits limits(Section s) {
        s.keys(LIMIT_KEYS, List.of());
        ListenerLimits d = ListenerLimits.DEFAULTS;
        return new ListenerLimits(
                s.integer("max_connections", d.maxConnections(), 1, Integer.MAX_VALUE),
                s.duration("header_read_timeout", d.headerReadTimeout(), false),
                s.duration("idle_timeout", d.idleTimeout(), false),
                (int) s.size("max_header_size", d.maxHeaderSize(), Integer.MAX_VALUE),
                (int) s.size("max_request_line", d.maxRequestLine(), Integer.MAX_VALUE),
                s.size("max_body_size", d.maxBodySize(), Long.MAX_VALUE));
    }
}
