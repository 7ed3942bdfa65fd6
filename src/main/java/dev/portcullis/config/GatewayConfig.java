package dev.portcullis.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A route's API gateway keys: {@code access}, {@code cors}, {@code auth} and {@code rate_limit}, checked in that
 * order before the route's action (and before its cache): who may connect, what a browser may ask, who the client
 * is, and how much it may ask.
 *
 * @param access    null when not set
 * @param cors      null when not set
 * @param auth      null when not set
 * @param rateLimit null when not set
 */
public record GatewayConfig(Access access, Cors cors, Auth auth, RateLimit rateLimit) {
    public static final GatewayConfig NONE = new GatewayConfig(null, null, null, null);

    public boolean isEmpty() {
        return access == null && cors == null && auth == null && rateLimit == null;
    }

    /**
     * {@code access: { allow: [CIDR...], deny: [CIDR...] }}: deny wins; a non-empty allow list admits only what it
     * names. Judged on the client address as the listener sees it.
     */
    public record Access(List<String> allow, List<String> deny) {}

    /**
     * {@code cors}, per the Fetch standard.
     *
     * @param allowOrigins     exact origins ({@code https://app.example.com}) or {@code *}
     * @param allowMethods     methods a preflight may ask for (upper case)
     * @param allowHeaders     request headers a preflight may ask for (lower case); {@code *} for any
     * @param exposeHeaders    response headers a page may read (as written)
     * @param allowCredentials {@code Access-Control-Allow-Credentials: true} (never with origin {@code *})
     * @param maxAge           how long a browser may keep a preflight's answer; null to leave it to the browser
     */
    public record Cors(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
                       List<String> exposeHeaders, boolean allowCredentials, Duration maxAge) {}

    /**
     * {@code auth}: one method, or {@code any_of} several (the first that finds credentials in the request decides).
     *
     * @param methods         at least one
     * @param groups          when not empty, only consumers in one of these groups pass ({@code 403} otherwise)
     * @param keepCredentials send the credentials on to the upstream (default false: they are removed)
     */
    public record Auth(List<Method> methods, List<String> groups, boolean keepCredentials) {}

    /** One way of authenticating. */
    public sealed interface Method permits ApiKey, Basic, Jwt {}

    /**
     * {@code api_key: { header, query }}: a key of one of {@code consumers}, in a header (default {@code X-API-Key})
     * or, when {@code query} is set, in that query parameter.
     */
    public record ApiKey(String header, String query) implements Method {
        public static final String DEFAULT_HEADER = "X-API-Key";
    }

    /**
     * {@code basic: { htpasswd, realm }}: RFC 7617 credentials checked against an htpasswd file; the user is the
     * consumer of that name when one is configured.
     */
    public record Basic(Path htpasswd, String realm) implements Method {}

    /**
     * {@code jwt}: a bearer token (RFC 6750) whose JWS signature is checked with the keys of a JWKS (asymmetric
     * algorithms) or with {@code secret} (HMAC, only when it is set).
     *
     * @param jwksUrl        an http(s) URL to fetch the JWKS from; null when {@code jwksFile} or only a secret
     * @param jwksFile       a JWKS file read at load; null when {@code jwksUrl} or only a secret
     * @param secret         the HMAC key (HS256/384/512), 32+ bytes; null: HMAC tokens are refused
     * @param issuer         required {@code iss}; null for any
     * @param audiences      {@code aud} must contain one of these; empty for any
     * @param consumerClaim  the claim naming the consumer (default {@code sub})
     * @param forwardClaims  claims copied into request headers, claim to header (the client's own values of those
     *                       headers never pass)
     * @param clockSkew      allowed on {@code exp} and {@code nbf}
     * @param line           line of the {@code jwt} key, for problems found when the JWKS is read
     * @param path           its config path, for the same
     */
    public record Jwt(String jwksUrl, Path jwksFile, String secret, String issuer, List<String> audiences,
                      String consumerClaim, java.util.Map<String, String> forwardClaims, Duration clockSkew,
                      int line, String path) implements Method {
        public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

        @Override
        public String toString() {
            return "Jwt[" + (jwksUrl != null ? jwksUrl : jwksFile) + (secret != null ? ", secret ***" : "")
                    + ", issuer " + issuer + ", audiences " + audiences + "]";
        }
    }

    /**
     * {@code rate_limit: { key, rate, burst, store }}: a token bucket per key value.
     *
     * @param key    what is counted
     * @param limit  requests per {@code per}
     * @param per    the period of {@code rate} ({@code 100/s}, {@code 1000/m}, {@code /h}, {@code /d})
     * @param burst  requests that may come at once above the steady rate (default: the rate's count)
     * @param store  where the buckets live
     */
    public record RateLimit(RateKey key, long limit, Duration per, long burst, Store store,
                            OnRedisError onRedisError) {
        public enum Store { LOCAL, REDIS }

        /** With {@code store: redis}, what a request gets when Redis cannot answer in time. */
        public enum OnRedisError { ALLOW, DENY }

        public RateLimit(RateKey key, long limit, Duration per, long burst, Store store) {
            this(key, limit, per, burst, store, OnRedisError.ALLOW);
        }
    }

    /** What a rate limit counts by. */
    public sealed interface RateKey permits ClientIp, Consumer, Header, Route {}

    public record ClientIp() implements RateKey {}

    /** The authenticated consumer (the client address for a request without one). */
    public record Consumer() implements RateKey {}

    public record Header(String name) implements RateKey {}

    /** The whole route: one bucket for everyone. */
    public record Route() implements RateKey {}
}
