package dev.portcullis.http.router;

import dev.portcullis.config.MatchConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A listener's routes compiled into a lookup structure: host map → path index → remaining predicates.
 * Semantics are exactly "the first route in config order whose whole match passes": every host bucket holds
 * all routes that can match that host (exact ones, the wildcards covering it, and host-less ones), and the
 * path index returns the smallest matching index.
 *
 * <p>Wildcards: {@code *.example.com} matches any name ending in {@code .example.com} (one or more labels),
 * not {@code example.com} itself, as in nginx and Envoy.
 *
 * @param <R> the compiled route type
 */
public final class RouteTable<R> {
    private final List<R> routes;
    private final RoutePredicate[][] predicates;
    private final Map<String, PathIndex> exactHosts;
    /** Keyed by the suffix including its leading dot: ".example.com". */
    private final Map<String, PathIndex> wildcardHosts;
    private final PathIndex anyHost;

    private RouteTable(List<R> routes, RoutePredicate[][] predicates, Map<String, PathIndex> exactHosts,
                       Map<String, PathIndex> wildcardHosts, PathIndex anyHost) {
        this.routes = routes;
        this.predicates = predicates;
        this.exactHosts = exactHosts;
        this.wildcardHosts = wildcardHosts;
        this.anyHost = anyHost;
    }

    public record Entry<R>(R route, MatchConfig match) {}

    public static <R> RouteTable<R> build(List<Entry<R>> entries) {
        int n = entries.size();
        List<R> routes = new ArrayList<>(n);
        RoutePredicate[][] predicates = new RoutePredicate[n][];
        Set<String> exactNames = new LinkedHashSet<>();
        Set<String> wildcardSuffixes = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            Entry<R> e = entries.get(i);
            routes.add(e.route());
            predicates[i] = Predicates.of(e.match());
            for (String h : e.match().hosts()) {
                String host = h.toLowerCase(Locale.ROOT);
                if (host.startsWith("*.")) {
                    wildcardSuffixes.add(host.substring(1));
                } else {
                    exactNames.add(host);
                }
            }
        }
        Map<String, PathIndex> exact = new HashMap<>();
        for (String host : exactNames) {
            exact.put(host, bucket(entries, hostPattern -> matchesHost(hostPattern, host)));
        }
        Map<String, PathIndex> wildcards = new HashMap<>();
        for (String suffix : wildcardSuffixes) {
            // Every name under this suffix is also under each broader wildcard that covers the suffix.
            wildcards.put(suffix, bucket(entries, hostPattern ->
                    hostPattern.startsWith("*.") && suffix.endsWith(hostPattern.substring(1))));
        }
        PathIndex any = bucket(entries, hostPattern -> false);
        return new RouteTable<>(List.copyOf(routes), predicates, exact, wildcards, any);
    }

    private interface HostTest {
        boolean covers(String hostPattern);
    }

    private static boolean matchesHost(String pattern, String host) {
        if (pattern.startsWith("*.")) {
            return host.endsWith(pattern.substring(1)) && host.length() > pattern.length() - 1;
        }
        return pattern.equals(host);
    }

    private static <R> PathIndex bucket(List<Entry<R>> entries, HostTest test) {
        PathIndex.Builder b = new PathIndex.Builder();
        for (int i = 0; i < entries.size(); i++) {
            MatchConfig m = entries.get(i).match();
            boolean hostOk = m.hosts().isEmpty();
            for (String h : m.hosts()) {
                hostOk |= test.covers(h.toLowerCase(Locale.ROOT));
            }
            if (!hostOk) {
                continue;
            }
            if (m.path() != null) {
                b.exact(m.path(), i);
            } else if (m.pathPrefix() != null) {
                b.prefix(m.pathPrefix(), i);
            } else {
                b.other(i);
            }
        }
        return b.build();
    }

    public List<R> routes() {
        return routes;
    }

    /**
     * @param host the request's host, lower case, without port (see {@link #normalizeHost})
     * @return the matching route, or null
     */
    public R match(String host, RequestFacts facts) {
        PathIndex index = bucketFor(host);
        int i = index.match(facts.path(), idx -> passes(idx, facts));
        return i < 0 ? null : routes.get(i);
    }

    private boolean passes(int index, RequestFacts facts) {
        for (RoutePredicate p : predicates[index]) {
            if (!p.test(facts)) {
                return false;
            }
        }
        return true;
    }

    private PathIndex bucketFor(String host) {
        if (host == null || host.isEmpty()) {
            return anyHost;
        }
        PathIndex exact = exactHosts.get(host);
        if (exact != null) {
            return exact;
        }
        if (!wildcardHosts.isEmpty()) {
            // Most specific wildcard first: for a.b.example.com try .b.example.com, then .example.com, .com.
            for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
                PathIndex w = wildcardHosts.get(host.substring(dot));
                if (w != null) {
                    return w;
                }
            }
        }
        return anyHost;
    }

    /** Lower-cases and strips the port and a trailing dot: "Example.COM.:8080" → "example.com". */
    public static String normalizeHost(String hostHeader) {
        if (hostHeader == null) {
            return "";
        }
        int end = hostHeader.length();
        if (!hostHeader.isEmpty() && hostHeader.charAt(0) == '[') {
            int close = hostHeader.indexOf(']');
            end = close < 0 ? end : close + 1;
        } else {
            int colon = hostHeader.lastIndexOf(':');
            if (colon >= 0) {
                end = colon;
            }
        }
        if (end > 0 && hostHeader.charAt(end - 1) == '.') {
            end--;
        }
        boolean lower = true;
        for (int i = 0; i < end; i++) {
            char c = hostHeader.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                lower = false;
                break;
            }
        }
        String h = end == hostHeader.length() ? hostHeader : hostHeader.substring(0, end);
        return lower ? h : h.toLowerCase(Locale.ROOT);
    }
}
