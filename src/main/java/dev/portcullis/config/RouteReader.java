package dev.portcullis.config;

import dev.portcullis.template.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code listeners[].routes[]} and {@code listeners[].defaults}. */
final class RouteReader {
    static final List<String> KEYS = List.of("name", "match", "headers", "rewrite", "upstream", "split", "redirect",
            "respond", "timeout", "retry", "mirror", "compress", "cache", "access", "auth", "rate_limit", "cors");
    static final List<String> UNSUPPORTED = List.of();
    /** A route that sets one of these replaces all of them from the listener's defaults. */
    static final Set<String> ACTIONS = Set.of("upstream", "split", "redirect", "respond");
    static final Set<Integer> REDIRECT_STATUSES = Set.of(301, 302, 303, 307, 308);

    private final Semantics semantics;

    RouteReader(Semantics semantics) {
        this.semantics = semantics;
    }

    /** Checks a listener's {@code defaults} once, so their errors are reported at the defaults. */
    void checkDefaults(Section defaults) {
        defaults.keys(KEYS, UNSUPPORTED);
        defaults.refuse("name", "'name' cannot be given in defaults: each route has its own");
        readBody(defaults, false);
    }

    /** @param route the route's keys merged with its listener's defaults */
    RouteConfig read(Section route, String defaultName) {
        route.keys(KEYS, UNSUPPORTED);
        String name = route.string("name", defaultName);
        if (route.has("name") && name != null && !Values.isName(name)) {
            route.error("name", "invalid name '" + name + "'; use letters, digits, '_', '.' and '-'");
        }
        RouteConfig body = readBody(route, true);
        return new RouteConfig(name, body.match(), body.headers(), body.rewrite(), body.action(), body.timeout(),
                body.retry(), body.mirror(), body.cache(), body.compress(), body.gateway());
    }

    private RouteConfig readBody(Section route, boolean actionRequired) {
        MatchConfig match = MatchReader.read(route);
        HeadersConfig headers = headers(route.section("headers"));
        RewriteConfig rewrite = rewrite(route.section("rewrite"));
        RouteAction action = action(route, actionRequired);
        Duration timeout = route.duration("timeout", null, false);
        RetryConfig retry = RetryReader.read(route);
        MirrorConfig mirror = mirror(route);
        RouteCacheConfig cache = CacheReader.route(route, semantics);
        CompressConfig compress = CompressReader.read(route);
        GatewayConfig gateway = GatewayReader.read(route, semantics);
        if (gateway.auth() != null && cache != null) {
            route.error("cache", "'cache' cannot be combined with 'auth' in this version: a shared cache would serve "
                    + "one consumer's responses to another (a per-consumer cache key is not built yet)");
        }
        return new RouteConfig(null, match, headers, rewrite, action, timeout, retry, mirror, cache, compress,
                gateway);
    }

    private static HeadersConfig headers(Section h) {
        h.keys(List.of("request", "response"), List.of());
        if (!h.has("request") && !h.has("response")) {
            return HeadersConfig.NONE;
        }
        return new HeadersConfig(ops(h.section("request")), ops(h.section("response")));
    }

    private static HeadersConfig.HeaderOps ops(Section ops) {
        ops.keys(List.of("set", "add", "remove"), List.of());
        Map<String, String> set = templates(ops.section("set"));
        Map<String, String> add = templates(ops.section("add"));
        List<String> remove = new ArrayList<>();
        for (Section.Item item : ops.items("remove", true)) {
            String name = MatchReader.parse(ops, item, "a header name", s -> {
                if (!Values.isToken(s)) {
                    throw new IllegalArgumentException("invalid header name '" + s + "'; expected an RFC 9110 token");
                }
                return s;
            });
            if (name != null) {
                remove.add(name);
            }
        }
        if (set.isEmpty() && add.isEmpty() && remove.isEmpty()) {
            return HeadersConfig.HeaderOps.NONE;
        }
        return new HeadersConfig.HeaderOps(set, add, List.copyOf(remove));
    }

    /** Header name to template text; names are tokens and values compile as templates. */
    static Map<String, String> templates(Section map) {
        Map<String, String> raw = MatchReader.stringMap(map, true);
        Map<String, String> out = new LinkedHashMap<>();
        for (Section.Entry e : map.entries()) {
            String v = raw.get(e.key());
            if (v != null && template(map, e.value(), e.path(), v)) {
                out.put(e.key(), v);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** Compiles a template to check its placeholders. */
    static boolean template(Section s, org.snakeyaml.engine.v2.nodes.Node node, String path, String text) {
        try {
            Template.compile(text);
            return true;
        } catch (IllegalArgumentException e) {
            s.errors.at(node, path, e.getMessage());
            return false;
        }
    }

    private static RewriteConfig rewrite(Section r) {
        r.keys(List.of("strip_prefix", "add_prefix", "regex"), List.of());
        String strip = r.parse("strip_prefix", null, "a path", MatchReader::absolutePath);
        String add = r.parse("add_prefix", null, "a path", MatchReader::absolutePath);
        String pattern = null;
        String replace = null;
        if (r.has("regex")) {
            Section re = r.section("regex");
            re.keys(List.of("pattern", "replace"), List.of());
            if (re.has("pattern")) {
                pattern = re.parse("pattern", null, "a regular expression", MatchReader::regex);
            } else {
                re.missing("pattern");
            }
            if (re.entries().stream().anyMatch(e -> e.key().equals("replace"))) {
                replace = re.string("replace", ""); // "replace:" with no value removes the match
            } else {
                re.missing("replace");
            }
        }
        if (strip == null && add == null && pattern == null) {
            return null;
        }
        return new RewriteConfig(strip, add, pattern, replace);
    }

    private RouteAction action(Section route, boolean required) {
        List<String> set = new ArrayList<>();
        for (String k : List.of("upstream", "split", "redirect", "respond")) {
            if (route.has(k)) {
                set.add(k);
            }
        }
        if (set.isEmpty()) {
            if (required && !route.isBad()) {
                route.errors.at(route.line(), route.path(), "a route needs one of 'upstream', 'split', 'redirect' or 'respond'");
            }
            return null;
        }
        if (set.size() > 1) {
            route.error(set.get(1), "a route takes exactly one of 'upstream', 'split', 'redirect', 'respond'; found '"
                    + String.join("' and '", set) + "'");
        }
        return switch (set.get(0)) {
            case "upstream" -> proxy(route);
            case "split" -> split(route);
            case "redirect" -> redirect(route.section("redirect"));
            default -> respond(route.section("respond"));
        };
    }

    private RouteAction proxy(Section route) {
        String name = route.string("upstream", null);
        if (name == null) {
            return null;
        }
        semantics.upstreamRef(name, route.line("upstream"), route.path("upstream"));
        return new RouteAction.Proxy(name);
    }

    private RouteAction split(Section route) {
        List<RouteAction.Split.Branch> branches = new ArrayList<>();
        int total = 0;
        for (Section.Item item : route.items("split", false)) {
            Section b = Section.of(route.errors, item.node(), item.path(), item.node());
            if (b.isBad()) {
                continue;
            }
            b.keys(List.of("upstream", "weight"), List.of());
            String name = b.requiredString("upstream");
            int weight = b.has("weight") ? b.integer("weight", 1, 0, 1000) : 1;
            if (name != null) {
                semantics.upstreamRef(name, b.line("upstream"), b.path("upstream"));
                branches.add(new RouteAction.Split.Branch(name, weight));
                total += weight;
            }
        }
        if (branches.isEmpty()) {
            if (!route.isBad()) {
                route.error("split", "a split needs at least one { upstream: NAME, weight: N }");
            }
            return null;
        }
        if (total == 0) {
            route.error("split", "every split weight is 0; at least one must be above 0");
        }
        return new RouteAction.Split(List.copyOf(branches));
    }

    private MirrorConfig mirror(Section route) {
        if (!route.has("mirror")) {
            return null;
        }
        Section m = route.section("mirror");
        m.keys(List.of("upstream", "percent"), List.of());
        String name = m.requiredString("upstream");
        double percent = m.parse("percent", 100.0, "a percentage", RouteReader::mirrorPercent);
        if (name == null) {
            return null;
        }
        semantics.upstreamRef(name, m.line("upstream"), m.path("upstream"));
        return new MirrorConfig(name, percent);
    }

    /** 0..100, with or without '%'; errors quote what the user wrote. */
    private static double mirrorPercent(String text) {
        String t = text.trim();
        try {
            return Values.percent(t.endsWith("%") ? t : t + "%");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid mirror percentage '" + text
                    + "'; expected a number from 0 to 100 (a '%' is optional), such as 10 or 0.5%");
        }
    }

    private static RouteAction redirect(Section r) {
        r.keys(List.of("to", "status"), List.of());
        String to = r.requiredString("to");
        if (to != null) {
            template(r, r.node("to"), r.path("to"), to);
        }
        int status = r.parse("status", 302, "a status code", s -> {
            Integer code = s.trim().matches("\\d{3}") ? Integer.parseInt(s.trim()) : null;
            if (code == null || !REDIRECT_STATUSES.contains(code)) {
                throw new IllegalArgumentException("invalid redirect status '" + s + "'; expected 301, 302, 303, 307 or 308");
            }
            return code;
        });
        return to == null ? null : new RouteAction.Redirect(to, status);
    }

    private static RouteAction respond(Section r) {
        r.keys(List.of("status", "body", "headers"), List.of());
        int status = 0;
        if (r.has("status")) {
            status = r.integer("status", 0, 100, 599);
        } else {
            r.missing("status");
        }
        String body = r.string("body", "");
        if (!body.isEmpty()) {
            template(r, r.node("body"), r.path("body"), body);
        }
        Map<String, String> headers = templates(r.section("headers"));
        return new RouteAction.Respond(status, body, headers);
    }
}
