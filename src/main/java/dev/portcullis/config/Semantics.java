package dev.portcullis.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks across sections: names that must be unique, addresses that must not collide, references that must exist. */
final class Semantics {
    private record Located(String name, int line, String path) {}

    private record Bind(String listener, HostPort address, int line, String path) {}

    private final Errors errors;
    private final Map<String, Integer> listenerNames = new HashMap<>();
    private final Map<String, Integer> routeNames = new HashMap<>();
    private final List<Bind> binds = new ArrayList<>();
    private final List<Located> upstreamRefs = new ArrayList<>();
    private final List<Located> cacheRefs = new ArrayList<>();
    private final List<Located> groupRefs = new ArrayList<>();
    private final List<Located> apiKeyRoutes = new ArrayList<>();
    private Bind admin;

    Semantics(Errors errors) {
        this.errors = errors;
    }

    void listenerName(String name, int line, String path) {
        Integer first = listenerNames.putIfAbsent(name, line);
        if (first != null) {
            errors.at(line, path, "duplicate listener name '" + name + "' (first at line " + first + ")");
        }
    }

    void listenerBind(String listener, HostPort address, int line, String path) {
        for (Bind b : binds) {
            if (Addresses.overlap(b.address(), address)) {
                errors.at(line, path, "address " + address + " is already used by listener '" + b.listener()
                        + "' (" + b.address() + ", line " + b.line() + ")");
                return;
            }
        }
        binds.add(new Bind(listener, address, line, path));
    }

    /** @param line 0 when admin.bind is not in the file (the default) */
    void adminBind(HostPort address, int line, String path) {
        admin = new Bind("admin", address, line, path);
    }

    void routeName(int listenerIndex, String name, int line, String path) {
        if (name == null) {
            return;
        }
        Integer first = routeNames.putIfAbsent(listenerIndex + "\u0000" + name, line);
        if (first != null) {
            errors.at(line, path, "duplicate route name '" + name + "' in this listener (first at line " + first + ")");
        }
    }

    void upstreamRef(String name, int line, String path) {
        upstreamRefs.add(new Located(name, line, path));
    }

    void cacheRef(String zone, int line, String path) {
        cacheRefs.add(new Located(zone, line, path));
    }

    private final List<Located> redisStores = new ArrayList<>();

    /** A route's {@code rate_limit.store: redis}: the top-level {@code redis} must be there. */
    void redisStore(int line, String path) {
        redisStores.add(new Located("redis", line, path));
    }

    void checkRedisStores(boolean hasRedis) {
        if (!hasRedis) {
            for (Located ref : redisStores) {
                errors.at(ref.line(), ref.path(), "store 'redis' needs the top-level 'redis' (url or cluster); "
                        + "without it use store: local");
            }
        }
    }

    /** A route's {@code auth.groups} entry. */
    void groupRef(String group, int line, String path) {
        groupRefs.add(new Located(group, line, path));
    }

    /** A route authenticates with {@code api_key}: some consumer must have a key. */
    void apiKeyRoute(int line, String path) {
        apiKeyRoutes.add(new Located("api_key", line, path));
    }

    /** Routes' groups have members, and API keys exist where routes ask for them. */
    void checkConsumers(List<ConsumerConfig> consumers) {
        Set<String> groups = new java.util.TreeSet<>();
        consumers.forEach(c -> groups.addAll(c.groups()));
        for (Located ref : groupRefs) {
            if (!groups.contains(ref.name())) {
                String hint = DidYouMean.suffix(ref.name(), groups);
                errors.at(ref.line(), ref.path(), "no consumer is in group '" + ref.name() + "'" + (hint.isEmpty()
                        ? groups.isEmpty() ? "; consumers' groups are set under the top-level 'consumers'"
                        : "; groups in use: " + String.join(", ", groups) : hint));
            }
        }
        if (consumers.stream().allMatch(c -> c.apiKeys().isEmpty())) {
            for (Located ref : apiKeyRoutes) {
                errors.at(ref.line(), ref.path(), "auth.api_key needs consumers with api_keys (top-level "
                        + "'consumers'); none has a key" + (consumers.isEmpty() ? "" : " (an unset ${VAR:-} "
                        + "leaves a key out)"));
            }
        }
    }

    /** Routes name cache zones that exist. */
    void checkCaches(Set<String> zones) {
        for (Located ref : cacheRefs) {
            if (!zones.contains(ref.name())) {
                String hint = DidYouMean.suffix(ref.name(), zones);
                if (hint.isEmpty()) {
                    hint = zones.isEmpty() ? "; no cache zones are defined (top-level 'caches')"
                            : "; defined: " + String.join(", ", zones);
                }
                errors.at(ref.line(), ref.path(), "unknown cache zone '" + ref.name() + "'" + hint);
            }
        }
    }

    /** Runs the checks that need the whole file. */
    void check(Set<String> upstreamNames) {
        for (Located ref : upstreamRefs) {
            if (!upstreamNames.contains(ref.name())) {
                String hint = DidYouMean.suffix(ref.name(), upstreamNames);
                if (hint.isEmpty()) {
                    hint = upstreamNames.isEmpty() ? "; no upstreams are defined" : "; defined: " + String.join(", ", upstreamNames);
                }
                errors.at(ref.line(), ref.path(), "unknown upstream '" + ref.name() + "'" + hint);
            }
        }
        if (admin != null) {
            for (Bind b : binds) {
                if (Addresses.overlap(b.address(), admin.address())) {
                    if (admin.line() > 0) {
                        errors.at(admin.line(), admin.path(), "admin bind " + admin.address() + " is also the bind of listener '"
                                + b.listener() + "' (line " + b.line() + ")");
                    } else {
                        errors.at(b.line(), b.path(), "address " + b.address() + " is also the admin API's default bind "
                                + admin.address() + "; set admin.bind to another address");
                    }
                }
            }
        }
    }
}
