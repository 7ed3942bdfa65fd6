package dev.portcullis.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/** A route's {@code access}, {@code cors}, {@code auth} and {@code rate_limit} (and the same in defaults). */
final class GatewayReader {
    static final Set<String> CORS_SAFELISTED_METHODS = Set.of("GET", "HEAD", "POST");
    /** The largest rate count; more than this per second is no limit a proxy can tell from none. */
    static final long MAX_RATE = 1_000_000_000L;

    private GatewayReader() {
    }

    static GatewayConfig read(Section route, Semantics semantics) {
        GatewayConfig.Access access = route.has("access") ? access(route.section("access")) : null;
        GatewayConfig.Cors cors = route.has("cors") ? cors(route.section("cors")) : null;
        GatewayConfig.Auth auth = route.has("auth") ? auth(route.section("auth"), semantics) : null;
        GatewayConfig.RateLimit rateLimit = route.has("rate_limit") ? rateLimit(route.section("rate_limit"), true, semantics)
                : null;
        if (rateLimit != null && rateLimit.key() instanceof GatewayConfig.Consumer && auth == null
                && route.has("rate_limit")) {
            route.section("rate_limit").error("key", "key 'consumer' needs 'auth' on the route (the consumer is "
                    + "who authenticated); use client_ip here");
        }
        if (rateLimit != null && auth != null && rateLimit.key() instanceof GatewayConfig.Header h
                && isCredential(h.name(), auth)) {
            route.section("rate_limit").error("key", "header " + h.name() + " carries the credentials, which 'auth' "
                    + "removes before the limit is counted; use key: consumer");
        }
        GatewayConfig g = new GatewayConfig(access, cors, auth, rateLimit);
        return g.isEmpty() ? GatewayConfig.NONE : g;
    }

    private static boolean isCredential(String header, GatewayConfig.Auth auth) {
        if (header.equalsIgnoreCase("Authorization")) {
            return true;
        }
        return auth.methods().stream().anyMatch(m -> m instanceof GatewayConfig.ApiKey k && k.header() != null
                && k.header().equalsIgnoreCase(header));
    }

    private static GatewayConfig.Access access(Section a) {
        a.keys(List.of("allow", "deny"), List.of());
        List<String> allow = cidrs(a, "allow");
        List<String> deny = cidrs(a, "deny");
        if (a.has("allow") && allow.isEmpty() && !a.isBad()) {
            a.error("allow", "an empty allow list would refuse everyone; leave the key out to allow all that deny "
                    + "does not name");
        }
        if (!a.has("allow") && !a.has("deny") && !a.isBad()) {
            a.errorHere("'access' needs 'allow' or 'deny'");
        }
        return new GatewayConfig.Access(allow, deny);
    }

    private static List<String> cidrs(Section s, String key) {
        List<String> out = new ArrayList<>();
        for (Section.Item item : s.items(key, true)) {
            String cidr = MatchReader.parse(s, item, "an address or CIDR", Addresses::cidr);
            if (cidr != null) {
                out.add(cidr);
            }
        }
        return List.copyOf(out);
    }

    private static GatewayConfig.Cors cors(Section c) {
        c.keys(List.of("allow_origins", "allow_methods", "allow_headers", "expose_headers", "allow_credentials",
                "max_age"), List.of());
        List<String> origins = list(c, "allow_origins", "an origin such as https://app.example.com, or *",
                GatewayReader::origin);
        if (!c.has("allow_origins") && !c.isBad()) {
            c.missing("allow_origins");
        }
        List<String> methods = list(c, "allow_methods", "a method or *", s -> {
            if (!s.equals("*") && !Values.isToken(s)) {
                throw new IllegalArgumentException("invalid method '" + s + "'");
            }
            return s.toUpperCase(Locale.ROOT);
        });
        List<String> headers = list(c, "allow_headers", "a header name or *", s -> {
            if (!s.equals("*") && !Values.isToken(s)) {
                throw new IllegalArgumentException("invalid header name '" + s + "'; expected an RFC 9110 token");
            }
            return s.toLowerCase(Locale.ROOT);
        });
        List<String> expose = list(c, "expose_headers", "a header name", s -> {
            if (!Values.isToken(s)) {
                throw new IllegalArgumentException("invalid header name '" + s + "'; expected an RFC 9110 token");
            }
            return s;
        });
        boolean credentials = c.bool("allow_credentials", false);
        if (credentials && (methods.contains("*") || headers.contains("*"))) {
            c.error("allow_credentials", "allow_credentials cannot be used with '*' in allow_methods or "
                    + "allow_headers (the Fetch standard reads '*' literally then); list them");
        }
        if (credentials && origins.contains("*")) {
            c.error("allow_credentials", "allow_credentials cannot be used with allow_origins '*' (the Fetch "
                    + "standard forbids it); list the origins");
        }
        Duration maxAge = c.has("max_age") ? c.duration("max_age", null, true) : null;
        return new GatewayConfig.Cors(origins, methods.isEmpty() ? List.of("GET", "HEAD", "POST") : methods, headers,
                expose, credentials, maxAge);
    }

    /** {@code scheme://host[:port]}, lower case, as a browser sends it in {@code Origin}; or {@code *}. */
    private static String origin(String s) {
        String o = s.trim();
        if (o.equals("*")) {
            return o;
        }
        String lower = o.toLowerCase(Locale.ROOT);
        int sep = lower.indexOf("://");
        if (sep <= 0 || lower.length() == sep + 3 || lower.indexOf('/', sep + 3) >= 0 || lower.endsWith(":")
                || lower.chars().anyMatch(ch -> ch <= ' ' || ch == '?' || ch == '#' || ch == '@')) {
            throw new IllegalArgumentException("invalid origin '" + s + "'; expected scheme://host[:port] with no "
                    + "path, such as https://app.example.com, or *");
        }
        // browsers leave a scheme's default port out of Origin
        if (lower.startsWith("https://") && lower.endsWith(":443")) {
            return lower.substring(0, lower.length() - 4);
        }
        if (lower.startsWith("http://") && lower.endsWith(":80")) {
            return lower.substring(0, lower.length() - 3);
        }
        return lower;
    }

    private static <T> List<T> list(Section s, String key, String expected, Function<String, T> parser) {
        Set<T> out = new LinkedHashSet<>();
        for (Section.Item item : s.items(key, true)) {
            T v = MatchReader.parse(s, item, expected, parser);
            if (v != null) {
                out.add(v);
            }
        }
        return List.copyOf(out);
    }

    private static GatewayConfig.Auth auth(Section a, Semantics semantics) {
        a.keys(List.of("api_key", "basic", "jwt", "any_of", "groups", "keep_credentials"), List.of());
        List<GatewayConfig.Method> methods = new ArrayList<>();
        int direct = (a.has("api_key") ? 1 : 0) + (a.has("basic") ? 1 : 0) + (a.has("jwt") ? 1 : 0);
        if (a.has("any_of")) {
            if (direct > 0) {
                a.error("any_of", "give either one method (api_key, basic or jwt) or any_of, not both");
            }
            List<Section.Item> items = a.items("any_of", false);
            for (Section.Item item : items) {
                Section m = Section.of(a.errors, item.node(), item.path(), item.node());
                if (m.isBad()) {
                    continue;
                }
                m.keys(List.of("api_key", "basic", "jwt"), List.of());
                int n = (m.has("api_key") ? 1 : 0) + (m.has("basic") ? 1 : 0) + (m.has("jwt") ? 1 : 0);
                if (n != 1) {
                    a.errorAt(item, "each any_of entry is one method: api_key, basic or jwt");
                    continue;
                }
                GatewayConfig.Method method = method(m);
                if (method != null) {
                    methods.add(method);
                }
            }
            if (items.isEmpty() && !a.isBad()) {
                a.error("any_of", "any_of needs at least one method");
            }
        } else if (direct == 1) {
            GatewayConfig.Method method = method(a);
            if (method != null) {
                methods.add(method);
            }
        } else if (direct > 1) {
            a.errorHere("give one method (api_key, basic or jwt), or several under any_of");
        } else if (!a.isBad()) {
            a.errorHere("'auth' needs a method: api_key, basic, jwt or any_of");
        }
        List<String> groups = list(a, "groups", "a group name", s -> {
            if (!Values.isName(s)) {
                throw new IllegalArgumentException("invalid group '" + s + "'; use letters, digits, '_', '.' and '-'");
            }
            return s;
        });
        for (Section.Item g : a.items("groups", true)) {
            String name = a.scalar(g.node(), g.path(), "a group name");
            if (name != null && groups.contains(name)) {
                semantics.groupRef(name, Errors.line(g.node()), g.path());
            }
        }
        if (methods.stream().anyMatch(m -> m instanceof GatewayConfig.ApiKey)) {
            semantics.apiKeyRoute(a.line(), a.path());
        }
        boolean keep = a.bool("keep_credentials", false);
        return methods.isEmpty() ? null : new GatewayConfig.Auth(List.copyOf(methods), groups, keep);
    }

    private static GatewayConfig.Method method(Section s) {
        if (s.has("api_key")) {
            Section k = s.section("api_key");
            k.keys(List.of("header", "query"), List.of());
            String header = k.string("header", null);
            if (header != null && !Values.isToken(header)) {
                k.error("header", "invalid header name '" + header + "'; expected an RFC 9110 token");
            }
            String query = k.string("query", null);
            if (query != null && query.isBlank()) {
                k.error("query", "the query parameter name is empty");
            }
            return new GatewayConfig.ApiKey(header != null ? header
                    : query != null ? null : GatewayConfig.ApiKey.DEFAULT_HEADER, query);
        }
        if (s.has("basic")) {
            Section b = s.section("basic");
            b.keys(List.of("htpasswd", "realm"), List.of());
            java.nio.file.Path file = null;
            if (!b.has("htpasswd")) {
                b.missing("htpasswd");
            } else {
                file = b.file("htpasswd");
            }
            String realm = b.string("realm", "portcullis");
            if (realm != null && (realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0)) {
                b.error("realm", "a realm may not contain '\"' or '\\'");
            }
            return file == null ? null : new GatewayConfig.Basic(file, realm);
        }
        return jwt(s.section("jwt"));
    }

    /** The shortest HMAC secret accepted: HS256 needs a key as long as its hash (RFC 7518 section 3.2). */
    static final int MIN_SECRET_BYTES = 32;

    private static GatewayConfig.Jwt jwt(Section j) {
        j.keys(List.of("jwks", "secret", "issuer", "audiences", "consumer_claim", "forward_claims", "clock_skew"),
                List.of());
        String url = null;
        java.nio.file.Path file = null;
        if (j.has("jwks")) {
            String text = j.string("jwks", null);
            if (text != null && (text.startsWith("https://") || text.startsWith("http://"))) {
                try {
                    java.net.URI u = java.net.URI.create(text.trim());
                    if (u.getHost() == null) {
                        throw new IllegalArgumentException("no host");
                    }
                    url = u.toString();
                } catch (IllegalArgumentException e) {
                    j.error("jwks", "invalid JWKS URL '" + text + "': " + e.getMessage());
                }
            } else if (text != null) {
                file = j.file("jwks");
            }
        }
        String secret = j.string("secret", null);
        if (secret != null && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            j.error("secret", "an HMAC secret must be at least " + MIN_SECRET_BYTES + " bytes (HS256 needs a key as "
                    + "long as its hash); for example 'openssl rand -hex 32'");
            secret = null;
        }
        if (!j.has("jwks") && !j.has("secret") && !j.isBad()) {
            j.errorHere("'jwt' needs 'jwks' (a URL or a file) or 'secret'");
        }
        String issuer = j.string("issuer", null);
        List<String> audiences = list(j, "audiences", "an audience", String::trim);
        String claim = j.string("consumer_claim", "sub");
        java.util.Map<String, String> forward = new java.util.LinkedHashMap<>();
        Section fc = j.section("forward_claims");
        for (Section.Entry e : fc.entries()) {
            String header = fc.scalar(e.value(), e.path(), "a header name");
            if (header != null && !Values.isToken(header)) {
                fc.error(e.key(), "invalid header name '" + header + "'; expected an RFC 9110 token");
            } else if (header != null) {
                forward.put(e.key(), header);
            }
        }
        Duration skew = j.has("clock_skew") ? j.duration("clock_skew", GatewayConfig.Jwt.DEFAULT_CLOCK_SKEW, true)
                : GatewayConfig.Jwt.DEFAULT_CLOCK_SKEW;
        if (j.isBad() || (j.has("jwks") && url == null && file == null)) {
            return null;
        }
        return new GatewayConfig.Jwt(url, file, secret, issuer, audiences, claim, java.util.Map.copyOf(forward),
                skew, j.line(), j.path());
    }

    /**
     * {@code rate_limit: { key, rate, burst, store }}; a consumer's has no key (it is the consumer).
     *
     * @param withKey whether {@code key} is read (a route's) or refused (a consumer's)
     */
    static GatewayConfig.RateLimit rateLimit(Section r, boolean withKey, Semantics semantics) {
        r.keys(withKey ? List.of("key", "rate", "burst", "store", "on_redis_error") : List.of("rate", "burst"),
                List.of());
        GatewayConfig.RateKey key = new GatewayConfig.ClientIp();
        if (withKey) {
            key = r.parse("key", key, "a rate limit key", GatewayReader::rateKey);
        }
        long[] rate = null;
        Duration per = null;
        if (!r.has("rate")) {
            r.missing("rate");
        } else {
            String text = r.string("rate", null);
            if (text != null) {
                try {
                    rate = new long[] {rateCount(text)};
                    per = ratePeriod(text);
                } catch (IllegalArgumentException e) {
                    r.error("rate", e.getMessage());
                }
            }
        }
        long burst = rate == null ? 1 : rate[0];
        if (r.has("burst")) {
            burst = r.integer("burst", (int) Math.min(Integer.MAX_VALUE, burst), 1, Integer.MAX_VALUE);
        }
        GatewayConfig.RateLimit.Store store = GatewayConfig.RateLimit.Store.LOCAL;
        if (withKey) {
            store = r.parse("store", store, "local or redis", s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "local" -> GatewayConfig.RateLimit.Store.LOCAL;
                case "redis" -> GatewayConfig.RateLimit.Store.REDIS;
                default -> throw new IllegalArgumentException("unknown store '" + s + "'; expected local or redis");
            });
        }
        GatewayConfig.RateLimit.OnRedisError onError = r.parse("on_redis_error",
                GatewayConfig.RateLimit.OnRedisError.ALLOW, "allow or deny", s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
                    case "allow" -> GatewayConfig.RateLimit.OnRedisError.ALLOW;
                    case "deny" -> GatewayConfig.RateLimit.OnRedisError.DENY;
                    default -> throw new IllegalArgumentException("unknown value '" + s + "'; expected allow or deny");
                });
        if (r.has("on_redis_error") && store != GatewayConfig.RateLimit.Store.REDIS) {
            r.error("on_redis_error", "'on_redis_error' applies only with store: redis");
        }
        if (store == GatewayConfig.RateLimit.Store.REDIS && semantics != null) {
            semantics.redisStore(r.line("store"), r.path("store"));
        }
        if (rate == null) {
            return null;
        }
        if ((double) per.toNanos() / rate[0] * burst > Long.MAX_VALUE / 4.0) {
            r.error("burst", "a burst of " + burst + " at " + rate[0] + " per " + per.toSeconds() + " s would take "
                    + "more than 70 years to refill; lower it");
            return null;
        }
        return new GatewayConfig.RateLimit(key, rate[0], per, burst, store, onError);
    }

    private static GatewayConfig.RateKey rateKey(String s) {
        String t = s.trim();
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.equals("client_ip")) {
            return new GatewayConfig.ClientIp();
        }
        if (lower.equals("consumer")) {
            return new GatewayConfig.Consumer();
        }
        if (lower.equals("route")) {
            return new GatewayConfig.Route();
        }
        if (lower.startsWith("header:")) {
            String name = t.substring("header:".length()).trim();
            if (!Values.isToken(name)) {
                throw new IllegalArgumentException("invalid header name '" + name + "' in '" + s + "'");
            }
            return new GatewayConfig.Header(name);
        }
        throw new IllegalArgumentException("unknown key '" + s + "'; expected client_ip, consumer, route or "
                + "header:NAME");
    }

    /** The count of {@code N/s}, {@code N/m}, {@code N/h} or {@code N/d}. */
    static long rateCount(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        if (slash <= 0 || !t.substring(0, slash).trim().matches("[0-9]{1,10}")) {
            throw new IllegalArgumentException("invalid rate '" + text + "'; expected N/s, N/m, N/h or N/d such as "
                    + "100/s");
        }
        long n = Long.parseLong(t.substring(0, slash).trim());
        if (n < 1 || n > MAX_RATE) {
            throw new IllegalArgumentException("invalid rate '" + text + "'; the count is 1 to " + MAX_RATE);
        }
        ratePeriod(text);
        return n;
    }

    static Duration ratePeriod(String text) {
        String t = text.trim();
        String unit = t.substring(t.indexOf('/') + 1).trim().toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "s", "sec", "second" -> Duration.ofSeconds(1);
            case "m", "min", "minute" -> Duration.ofMinutes(1);
            case "h", "hour" -> Duration.ofHours(1);
            case "d", "day" -> Duration.ofDays(1);
            default -> throw new IllegalArgumentException("invalid rate '" + text + "'; the period is s, m, h or d "
                    + "(100/s, 1000/m)");
        };
    }
}
