package dev.portcullis.http.gateway;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.AsymmetricJWK;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.http.Exchange;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code auth.jwt}: a bearer token (RFC 6750) that must be a JWS (a token with {@code alg: none} is not), signed
 * with an asymmetric algorithm (RS*, PS*, ES*) by a key of the JWKS whose type fits the algorithm, or with HS* only
 * when a {@code secret} is configured, and then only with that secret: a JWKS key is never used as an HMAC secret,
 * which closes the algorithm-confusion hole. Then {@code exp} (required) and {@code nbf} within the clock skew,
 * {@code iss} and {@code aud} when configured. The consumer is the {@code consumer_claim}'s value (a configured
 * consumer of that name, else that name alone).
 */
final class JwtCheck implements Authenticator.Check {
    private static final DefaultJWSVerifierFactory VERIFIERS = new DefaultJWSVerifierFactory();

    private final GatewayConfig.Jwt cfg;
    private final JwksSource keys;
    private final byte[] secret;
    private final ConsumerDirectory consumers;
    private final long skewMillis;
    /**
     * Tokens already verified, by their whole text (signature included, so only the same signed token finds its
     * entry): a client sends the same token on every request until it expires, and verifying an RS256 signature
     * costs far more than proxying the request. An entry keeps what was checked once (signature, issuer,
     * audience); the times are checked again on every use. Kept {@link #VERIFIED_FOR} at most, so a key withdrawn
     * from the JWKS stops being honoured within that.
     */
    private final com.github.benmanes.caffeine.cache.Cache<String, Verified> verified =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(VERIFIED_TOKENS)
                    .executor(Runnable::run) // maintenance here, not a common-pool wake-up per few requests
                    .expireAfterWrite(VERIFIED_FOR).build();
    static final int VERIFIED_TOKENS = 10_000;
    static final java.time.Duration VERIFIED_FOR = java.time.Duration.ofMinutes(5);

    /** What a verified token said: its consumer, its times, the header values its claims fill. */
    private record Verified(String consumer, long expMillis, long nbfMillis, Map<String, String> headers) {}

    /** @throws IllegalArgumentException for a JWKS file that cannot be used */
    JwtCheck(GatewayConfig.Jwt cfg, ConsumerDirectory consumers, String route) {
        this.cfg = cfg;
        this.keys = cfg.jwksUrl() != null ? JwksSource.url(cfg.jwksUrl(), route)
                : cfg.jwksFile() != null ? JwksSource.file(cfg.jwksFile(), route) : null;
        this.secret = cfg.secret() == null ? null : cfg.secret().getBytes(StandardCharsets.UTF_8);
        this.consumers = consumers;
        this.skewMillis = cfg.clockSkew().toMillis();
    }

    /** The headers forward_claims sets: the client's own values of them are removed before any check. */
    java.util.Collection<String> forwardedHeaders() {
        return cfg.forwardClaims().values();
    }

    @Override
    public boolean present(Exchange ex) {
        return Authenticator.hasAuthorization(ex, "Bearer");
    }

    @Override
    public GateDecision check(Exchange ex, Authenticator auth) {
        return check(ex, auth, true);
    }

    private GateDecision check(Exchange ex, Authenticator auth, boolean mayRefresh) {
        List<String> values = ex.request().headers().getAll(HttpHeaderNames.AUTHORIZATION);
        String value = values.size() == 1 ? values.get(0) : "";
        String token = value.length() > 7 && value.charAt(6) == ' ' ? value.substring(7).trim() : "";
        if (token.isEmpty()) {
            return auth.unauthorized("malformed credentials: send one 'Authorization: Bearer TOKEN'");
        }
        Verified known = verified.getIfPresent(token);
        if (known != null) {
            return accept(ex, auth, known);
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return auth.unauthorized("malformed token: not a signed JWT");
        }
        JWSHeader header = jwt.getHeader();
        JWSAlgorithm alg = header.getAlgorithm();
        JWSVerifier verifier;
        try {
            if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
                if (secret == null) {
                    return auth.unauthorized("token algorithm " + alg + " is not accepted");
                }
                verifier = new MACVerifier(secret);
            } else if (JWSAlgorithm.Family.RSA.contains(alg) || JWSAlgorithm.Family.EC.contains(alg)) {
                JWKSet set = keys == null ? null : keys.current();
                if (set == null && keys != null) {
                    if (!mayRefresh) { // waited for a fetch already, and it failed: say so rather than wait again
                        return new GateDecision.Refuse("auth", dev.portcullis.http.LocalReply.jsonError(503,
                                "the signing keys (JWKS) could not be fetched; try again"));
                    }
                    return waitForKeys(ex, auth, keys.refresh());
                }
                List<JWK> found = set == null ? List.of() : new JWKSelector(JWKMatcher.forJWSHeader(header)).select(set);
                if (found.isEmpty()) {
                    if (mayRefresh && keys != null && header.getKeyID() != null && keys.mayRefresh()) {
                        return waitForKeys(ex, auth, keys.refresh()); // the provider may have rotated its keys
                    }
                    return auth.unauthorized("unknown signing key");
                }
                verifier = VERIFIERS.createJWSVerifier(header, ((AsymmetricJWK) found.get(0)).toPublicKey());
            } else {
                return auth.unauthorized("token algorithm " + alg + " is not accepted");
            }
            if (!jwt.verify(verifier)) {
                return auth.unauthorized("invalid token signature");
            }
        } catch (JOSEException | ClassCastException e) {
            return auth.unauthorized("invalid token signature");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return auth.unauthorized("malformed token: its claims are not a JSON object");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return auth.unauthorized("token has no expiry (exp)");
        }
        Date nbf = claims.getNotBeforeTime();
        if (cfg.issuer() != null && !cfg.issuer().equals(claims.getIssuer())) {
            return auth.unauthorized("wrong token issuer");
        }
        if (!cfg.audiences().isEmpty() && (claims.getAudience() == null
                || claims.getAudience().stream().noneMatch(cfg.audiences()::contains))) {
            return auth.unauthorized("wrong token audience");
        }
        Object subject = claims.getClaim(cfg.consumerClaim());
        if (subject == null || subject.toString().isBlank()) {
            return auth.unauthorized("token has no '" + cfg.consumerClaim() + "' claim");
        }
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> e : cfg.forwardClaims().entrySet()) {
            String text = headerValue(claims.getClaim(e.getKey()));
            if (text != null && text.chars().noneMatch(ch -> ch < 0x20 && ch != '\t' || ch == 0x7f)) {
                headers.put(e.getValue(), text);
            }
        }
        Verified v = new Verified(subject.toString(), exp.getTime(), nbf == null ? Long.MIN_VALUE : nbf.getTime(),
                Map.copyOf(headers));
        verified.put(token, v);
        return accept(ex, auth, v);
    }

    /** A verified token, checked against the clock now: its consumer passes on, with its claims' headers. */
    private GateDecision accept(Exchange ex, Authenticator auth, Verified v) {
        long now = System.currentTimeMillis();
        if (now > v.expMillis() + skewMillis) {
            return auth.unauthorized("token expired");
        }
        if (v.nbfMillis() != Long.MIN_VALUE && now + skewMillis < v.nbfMillis()) {
            return auth.unauthorized("token not valid yet (nbf)");
        }
        Consumer c = consumers.byName(v.consumer());
        GateDecision d = auth.accepted(ex, c != null ? c : new Consumer(v.consumer(), Set.of()), this);
        if (d == GateDecision.PASS) {
            v.headers().forEach((name, value) -> ex.request().headers().set(name, value));
        }
        return d;
    }

    /**
     * A claim as a header value: strings as they are, numbers and booleans as JSON writes them, a list of those
     * comma-separated (as repeated header fields would be joined); objects and nested lists are not forwarded.
     */
    static String headerValue(Object v) {
        if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof List<?> list && list.stream().allMatch(x -> x instanceof String || x instanceof Number
                || x instanceof Boolean)) {
            return String.join(",", list.stream().map(Object::toString).toList());
        }
        return null;
    }

    /** The request waits for the JWKS (its first fetch, or a refresh for an unknown key id), then is checked again. */
    private GateDecision waitForKeys(Exchange ex, Authenticator auth,
                                     java.util.concurrent.CompletableFuture<JWKSet> fetched) {
        return new GateDecision.Pending(fetched.handleAsync((set, err) -> check(ex, auth, false), ex.executor()));
    }

    @Override
    public String challenge() {
        return "Bearer realm=\"portcullis\"";
    }
}
