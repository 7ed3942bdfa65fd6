package dev.portcullis.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/** {@code upstreams.NAME}. */
final class UpstreamReader {
    static final List<String> KEYS = List.of("endpoints", "balance", "hash_on", "hash_method", "discovery", "sticky",
            "health_check", "outlier_detection", "slow_start", "circuit_breaker", "panic_threshold",
            "connect_timeout", "keepalive", "protocol", "tls");
    /** In the reference file but for later issues (TLS and HTTP/2 upstreams, L4). */
    static final List<String> UNSUPPORTED = List.of("proxy_protocol");
    static final List<String> ENDPOINT_KEYS = List.of("address", "weight", "backup");

    private UpstreamReader() {}

    static UpstreamConfig read(String name, Section u) {
        u.keys(KEYS, UNSUPPORTED);
        List<UpstreamConfig.EndpointConfig> endpoints = endpoints(u);
        UpstreamConfig.Balance balance = u.parse("balance", UpstreamConfig.Balance.ROUND_ROBIN, "a balancing method",
                UpstreamReader::balance);
        UpstreamConfig.HashOn hashOn = u.parse("hash_on", null, "what to hash", UpstreamReader::hashOn);
        UpstreamConfig.HashMethod hashMethod = u.parse("hash_method", UpstreamConfig.HashMethod.MAGLEV, "maglev or ring",
                s -> switch (s.trim()) {
                    case "maglev" -> UpstreamConfig.HashMethod.MAGLEV;
                    case "ring" -> UpstreamConfig.HashMethod.RING;
                    default -> throw new IllegalArgumentException("unknown hash_method '" + s + "'; expected maglev or ring");
                });
        if (balance == UpstreamConfig.Balance.CONSISTENT_HASH && hashOn == null) {
            hashOn = new UpstreamConfig.HashOn.SourceIp();
        } else if (balance != UpstreamConfig.Balance.CONSISTENT_HASH) {
            for (String k : List.of("hash_on", "hash_method")) {
                if (u.has(k)) {
                    u.error(k, "'" + k + "' applies only with balance: consistent_hash (balance is " + balance.key + ")");
                }
            }
            hashOn = null;
        }
        UpstreamConfig.Discovery discovery = discovery(u);
        if (!u.has("endpoints") && discovery == null) {
            u.missing("endpoints");
        }
        UpstreamConfig.Sticky sticky = sticky(u);
        if (sticky != null && balance == UpstreamConfig.Balance.CONSISTENT_HASH) {
            u.error("sticky", "'sticky' and balance: consistent_hash both pin clients; use one of them");
        }
        UpstreamConfig.HealthCheck health = healthCheck(u);
        UpstreamConfig.OutlierDetection outlier = outlier(u);
        Duration slowStart = u.duration("slow_start", Duration.ZERO, true);
        UpstreamConfig.CircuitBreaker breaker = circuitBreaker(u);
        double panic = u.parse("panic_threshold", UpstreamConfig.DEFAULT_PANIC_THRESHOLD, "a percentage", Values::percent);
        var connectTimeout = u.duration("connect_timeout", UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, false);
        Section k = u.section("keepalive");
        k.keys(List.of("max_idle_per_endpoint", "idle_timeout"), List.of());
        var d = UpstreamConfig.Keepalive.DEFAULTS;
        var keepalive = new UpstreamConfig.Keepalive(
                k.integer("max_idle_per_endpoint", d.maxIdlePerEndpoint(), 0, 100_000),
                k.duration("idle_timeout", d.idleTimeout(), false));
        if (keepalive.equals(d)) {
            keepalive = d;
        }
        return new UpstreamConfig(name, List.copyOf(endpoints), balance, hashOn, hashMethod, discovery, sticky, health,
                outlier, slowStart, breaker, panic, connectTimeout, keepalive, connection(u));
    }

    private static UpstreamConnectionConfig connection(Section u) {
        var protocol = u.parse("protocol", UpstreamConnectionConfig.Protocol.HTTP1, "http1, http2 or h2c", s -> {
            for (var p : UpstreamConnectionConfig.Protocol.values()) {
                if (p.key.equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown protocol '" + s + "'; expected http1, http2 (TLS with ALPN h2) "
                    + "or h2c (HTTP/2 in clear text)");
        });
        UpstreamConnectionConfig.Tls tls = u.has("tls") ? TlsReader.upstream(u.section("tls")) : null;
        if (protocol == UpstreamConnectionConfig.Protocol.HTTP2 && tls == null && !u.has("tls")) {
            u.error("protocol", "protocol: http2 runs over TLS: add 'tls' (for example tls: { verify: true }), or use "
                    + "h2c for HTTP/2 in clear text");
        }
        if (protocol == UpstreamConnectionConfig.Protocol.H2C && u.has("tls")) {
            u.error("tls", "protocol: h2c is HTTP/2 in clear text; use protocol: http2 with 'tls'");
        }
        UpstreamConnectionConfig c = new UpstreamConnectionConfig(protocol, tls);
        return c.equals(UpstreamConnectionConfig.DEFAULT) ? UpstreamConnectionConfig.DEFAULT : c;
    }

    private static List<UpstreamConfig.EndpointConfig> endpoints(Section u) {
        List<UpstreamConfig.EndpointConfig> endpoints = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        List<Section.Item> items = u.items("endpoints", true);
        if (u.has("endpoints") && items.isEmpty() && !u.isBad() && u.node("endpoints") instanceof SequenceNode
                && !u.has("discovery")) {
            u.error("endpoints", "an upstream needs at least one endpoint (or 'discovery')");
        }
        for (Section.Item item : items) {
            UpstreamConfig.EndpointConfig ep = endpoint(u, item);
            if (ep == null) {
                continue;
            }
            String key = ep.address().toString().toLowerCase(Locale.ROOT);
            Integer first = seen.putIfAbsent(key, Errors.line(item.node()));
            if (first != null) {
                u.errors.at(item.node(), item.path(), "duplicate endpoint " + ep.address() + " (first at line " + first + ")");
                continue;
            }
            endpoints.add(ep);
        }
        if (!endpoints.isEmpty() && endpoints.stream().allMatch(UpstreamConfig.EndpointConfig::backup)
                && !u.has("discovery")) {
            u.error("endpoints", "every endpoint is a backup; at least one must not be");
        }
        return endpoints;
    }

    static UpstreamConfig.Balance balance(String s) {
        String b = s.trim();
        List<String> all = new ArrayList<>();
        for (UpstreamConfig.Balance v : UpstreamConfig.Balance.values()) {
            if (v.key.equals(b)) {
                return v;
            }
            all.add(v.key);
        }
        String hint = DidYouMean.suffix(b, all);
        throw new IllegalArgumentException("unknown balance '" + s + "'"
                + (hint.isEmpty() ? "; expected one of: " + String.join(", ", all) : hint));
    }

    static UpstreamConfig.HashOn hashOn(String s) {
        String t = s.trim();
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        String arg = colon < 0 ? null : t.substring(colon + 1).trim();
        String expected = "; expected source_ip, uri, header:NAME, cookie:NAME or query:NAME";
        switch (kind) {
            case "source_ip", "uri" -> {
                if (arg != null) {
                    throw new IllegalArgumentException("hash_on '" + s + "' takes no name" + expected);
                }
                return kind.equals("uri") ? new UpstreamConfig.HashOn.Uri() : new UpstreamConfig.HashOn.SourceIp();
            }
            case "header", "cookie", "query" -> {
                if (arg == null || arg.isEmpty()) {
                    throw new IllegalArgumentException("hash_on '" + s + "' needs a name, such as " + kind + ":X-User" + expected);
                }
                if (kind.equals("header") && !Values.isToken(arg)) {
                    throw new IllegalArgumentException("invalid header name '" + arg + "' in hash_on; expected an RFC 9110 token");
                }
                return switch (kind) {
                    case "header" -> new UpstreamConfig.HashOn.Header(arg);
                    case "cookie" -> new UpstreamConfig.HashOn.Cookie(arg);
                    default -> new UpstreamConfig.HashOn.Query(arg);
                };
            }
            default -> throw new IllegalArgumentException("unknown hash_on '" + s + "'" + expected);
        }
    }

    private static UpstreamConfig.Discovery discovery(Section u) {
        if (!u.has("discovery")) {
            return null;
        }
        Section s = u.section("discovery");
        s.keys(List.of("dns", "refresh"), List.of());
        HostPort target = null;
        if (s.has("dns")) {
            target = s.address("dns", null, false);
        } else {
            s.missing("dns");
        }
        Duration refresh = s.duration("refresh", Duration.ofSeconds(30), false);
        return target == null ? null : new UpstreamConfig.Discovery(target.host(), target.port(), refresh);
    }

    private static UpstreamConfig.Sticky sticky(Section u) {
        if (!u.has("sticky")) {
            return null;
        }
        Section s = u.section("sticky");
        s.keys(List.of("cookie", "ttl", "secret"), List.of());
        String cookie = s.parse("cookie", "PC_STICKY", "a cookie name", c -> {
            if (!Values.isToken(c.trim())) {
                throw new IllegalArgumentException("invalid cookie name '" + c + "'; expected an RFC 6265 token");
            }
            return c.trim();
        });
        Duration ttl = s.duration("ttl", null, false);
        String secret = s.string("secret", null);
        if (secret != null && secret.isEmpty()) {
            secret = null; // ${VAR:-} left empty: the process makes its own key
        } else if (secret != null && secret.length() < 16) {
            s.error("secret", "a sticky secret must be at least 16 characters");
        }
        return new UpstreamConfig.Sticky(cookie, ttl, secret);
    }

    private static UpstreamConfig.HealthCheck healthCheck(Section u) {
        if (!u.has("health_check")) {
            return null;
        }
        Section h = u.section("health_check");
        h.keys(List.of("http", "tcp", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "agent"), List.of());
        UpstreamConfig.HttpCheck http = null;
        if (h.has("http") && h.entries().stream().anyMatch(e -> e.key().equals("tcp"))) {
            h.error("tcp", "a health check is either 'http' or 'tcp', not both");
        }
        if (h.has("http")) {
            Section c = h.section("http");
            c.keys(List.of("path", "expect", "host"), List.of());
            String path = c.parse("path", "/", "a path", UpstreamReader::checkPath);
            List<UpstreamConfig.StatusRange> expect = new ArrayList<>();
            for (Section.Item item : c.items("expect", true)) {
                UpstreamConfig.StatusRange r = MatchReader.parse(c, item, "a status or range such as 200-399",
                        UpstreamReader::statusRange);
                if (r != null) {
                    expect.add(r);
                }
            }
            if (expect.isEmpty()) {
                expect.add(new UpstreamConfig.StatusRange(200, 399));
            }
            String host = c.parse("host", null, "a host name", UpstreamReader::checkHost);
            http = new UpstreamConfig.HttpCheck(path, List.copyOf(expect), host);
        } else if (h.entries().stream().noneMatch(e -> e.key().equals("tcp")) && !h.has("agent")) {
            h.errors.at(h.line(), h.path(), "a health check needs 'http: { path: ... }' or 'tcp: {}'");
        } else if (h.has("tcp")) {
            Section t = h.section("tcp");
            for (Section.Entry e : t.entries()) {
                t.error(e.key(), "a tcp check takes no settings (it connects to each endpoint's own address); "
                        + "write 'tcp: {}'");
            }
        }
        Duration interval = h.duration("interval", Duration.ofSeconds(5), false);
        Duration timeout = h.duration("timeout", Duration.ofSeconds(1), false);
        if (timeout.compareTo(interval) > 0) {
            h.error("timeout", "the timeout is longer than the interval; a check must end before the next one starts");
        }
        int healthy = h.integer("healthy_threshold", 2, 1, 100);
        int unhealthy = h.integer("unhealthy_threshold", 3, 1, 100);
        UpstreamConfig.Agent agent = null;
        if (h.has("agent")) {
            Section a = h.section("agent");
            a.keys(List.of("port", "interval"), List.of());
            int port = 0;
            if (a.has("port")) {
                port = a.integer("port", 0, 1, 65535);
            } else {
                a.missing("port");
            }
            agent = new UpstreamConfig.Agent(port, a.duration("interval", interval, false));
        }
        boolean tcp = http == null && h.entries().stream().anyMatch(e -> e.key().equals("tcp"));
        return new UpstreamConfig.HealthCheck(http, tcp, interval, timeout, healthy, unhealthy, agent);
    }

    /** A health check's request target: sent as written, so it must be one (no spaces, no control characters). */
    static String checkPath(String s) {
        MatchReader.absolutePath(s);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("invalid path '" + s + "'; spaces, control and non-ASCII "
                        + "characters must be percent-encoded (a space is %20)");
            }
        }
        return s;
    }

    /** The Host header of a health check: a host name or host:port, nothing a header value could not carry. */
    static String checkHost(String s) {
        String t = s.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty host; leave 'host' out to send the endpoint's address");
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/' || c == '@') {
                throw new IllegalArgumentException("invalid host '" + s + "'; expected a host name such as "
                        + "api.internal or api.internal:8080");
            }
        }
        return t;
    }

    static UpstreamConfig.StatusRange statusRange(String s) {
        String t = s.trim();
        String[] parts = t.split("-", -1);
        try {
            if (parts.length == 1) {
                int code = status(parts[0]);
                return new UpstreamConfig.StatusRange(code, code);
            }
            if (parts.length == 2) {
                int from = status(parts[0]);
                int to = status(parts[1]);
                if (from <= to) {
                    return new UpstreamConfig.StatusRange(from, to);
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("invalid status '" + s + "'; expected a status such as 200 or a range such as 200-399");
    }

    private static int status(String s) {
        int code = Integer.parseInt(s.trim());
        if (code < 100 || code > 599) {
            throw new NumberFormatException();
        }
        return code;
    }

    private static UpstreamConfig.OutlierDetection outlier(Section u) {
        if (!u.has("outlier_detection")) {
            return null;
        }
        Section o = u.section("outlier_detection");
        o.keys(List.of("consecutive_failures", "ejection_time", "max_ejected"), List.of());
        return new UpstreamConfig.OutlierDetection(
                o.integer("consecutive_failures", 5, 1, 1000),
                o.duration("ejection_time", Duration.ofSeconds(30), false),
                o.parse("max_ejected", 10.0, "a percentage", Values::percent));
    }

    private static UpstreamConfig.CircuitBreaker circuitBreaker(Section u) {
        if (!u.has("circuit_breaker")) {
            return UpstreamConfig.CircuitBreaker.UNLIMITED;
        }
        Section c = u.section("circuit_breaker");
        c.keys(List.of("max_connections", "max_pending", "max_requests"), List.of());
        return new UpstreamConfig.CircuitBreaker(
                c.integer("max_connections", 0, 0, 10_000_000),
                c.integer("max_pending", 0, 0, 10_000_000),
                c.integer("max_requests", 0, 0, 10_000_000));
    }

    private static UpstreamConfig.EndpointConfig endpoint(Section u, Section.Item item) {
        if (item.node() instanceof ScalarNode) {
            String text = u.scalar(item.node(), item.path(), "an address host:port");
            if (text == null) {
                return null;
            }
            try {
                return new UpstreamConfig.EndpointConfig(Addresses.hostPort(text, false), 1, false);
            } catch (IllegalArgumentException e) {
                u.errors.at(item.node(), item.path(), e.getMessage());
                return null;
            }
        }
        if (!(item.node() instanceof MappingNode)) {
            u.errors.at(item.node(), item.path(), "expected an address host:port or a mapping with 'address', found "
                    + Nodes.describe(item.node()));
            return null;
        }
        Section e = Section.of(u.errors, item.node(), item.path(), item.node());
        e.keys(ENDPOINT_KEYS, List.of());
        HostPort address = null;
        if (e.has("address")) {
            address = e.address("address", null, false);
        } else {
            e.missing("address");
        }
        int weight = e.integer("weight", 1, 1, 1000);
        boolean backup = e.bool("backup", false);
        return address == null ? null : new UpstreamConfig.EndpointConfig(address, weight, backup);
    }
}
