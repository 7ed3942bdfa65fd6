package dev.portcullis.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/** {@code upstreams.NAME}. */
final class UpstreamReader {
    static final List<String> KEYS = List.of("endpoints", "balance", "connect_timeout", "keepalive");
    /** In the reference file but not implemented; proxy_protocol is there too (under a tcp upstream). */
    static final List<String> UNSUPPORTED = List.of("discovery", "hash_on", "hash_method", "sticky", "health_check",
            "outlier_detection", "slow_start", "circuit_breaker", "protocol", "tls", "proxy_protocol");
    static final List<String> BALANCE_LATER = List.of("least_connections", "random", "power_of_two", "consistent_hash", "peak_ewma");
    static final List<String> ENDPOINT_KEYS = List.of("address", "weight", "backup");

    private UpstreamReader() {}

    static UpstreamConfig read(String name, Section u) {
        u.keys(KEYS, UNSUPPORTED);
        List<UpstreamConfig.EndpointConfig> endpoints = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        List<Section.Item> items = u.items("endpoints", true);
        if (!u.has("endpoints")) {
            u.missing("endpoints");
        } else if (items.isEmpty() && !u.isBad() && u.node("endpoints") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode) {
            u.error("endpoints", "an upstream needs at least one endpoint");
        }
        for (Section.Item item : items) {
            UpstreamConfig.EndpointConfig ep = endpoint(u, item);
            if (ep == null) {
                continue;
            }
            String key = ep.address().toString().toLowerCase(java.util.Locale.ROOT);
            Integer first = seen.putIfAbsent(key, Errors.line(item.node()));
            if (first != null) {
                u.errors.at(item.node(), item.path(), "duplicate endpoint " + ep.address() + " (first at line " + first + ")");
                continue;
            }
            endpoints.add(ep);
        }
        if (!endpoints.isEmpty() && endpoints.stream().allMatch(UpstreamConfig.EndpointConfig::backup)) {
            u.error("endpoints", "every endpoint is a backup; at least one must not be");
        }
        UpstreamConfig.Balance balance = u.parse("balance", UpstreamConfig.Balance.ROUND_ROBIN, "a balancing method", s -> {
            String b = s.trim();
            if (b.equals("round_robin")) {
                return UpstreamConfig.Balance.ROUND_ROBIN;
            }
            if (BALANCE_LATER.contains(b)) {
                throw new IllegalArgumentException("balance '" + s + "' is not supported in this version yet");
            }
            List<String> all = new ArrayList<>(BALANCE_LATER);
            all.add(0, "round_robin");
            String hint = DidYouMean.suffix(b, all);
            throw new IllegalArgumentException("unknown balance '" + s + "'" + (hint.isEmpty() ? "; expected round_robin" : hint));
        });
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
        return new UpstreamConfig(name, List.copyOf(endpoints), balance, connectTimeout, keepalive);
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
