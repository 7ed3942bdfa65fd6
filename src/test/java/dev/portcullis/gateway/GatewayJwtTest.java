package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.jwt}, black-box: tokens minted here with RSA and EC keys, a JWKS served by a local HTTP server (which
 * counts its fetches and can rotate keys), a JWKS file, an HMAC secret; every way a token is refused, the claims
 * forwarded (and the client's own values of those headers dropped), and the consumer named by the token.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayJwtTest {
    static final String SECRET = "0123456789abcdef0123456789abcdef-hmac";
    private static TestBackend be;
    private static TestBackend idp;
    private static RSAKey rsa;
    private static ECKey ec;
    /** The keys the identity provider publishes now. */
    private static final List<JWK> published = new CopyOnWriteArrayList<>();
    private static final AtomicInteger fetches = new AtomicInteger();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        be = TestBackend.start("be");
        rsa = new RSAKeyGenerator(2048).keyID("r1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
        published.add(rsa.toPublicJWK());
        published.add(ec.toPublicJWK());
        idp = TestBackend.start("idp", ex -> {
            fetches.incrementAndGet();
            byte[] body = new JWKSet(new ArrayList<>(published)).toString(true).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        });
    }

    @AfterAll
    static void stop() {
        be.close();
        idp.close();
    }

    @BeforeEach
    void clear() {
        be.seen.clear();
    }

    static String jwksUrl() {
        return "http://" + idp.address() + "/jwks.json";
    }

    private static TestProxy proxy(String jwt) throws Exception {
        return Gw.proxy(be, "auth: { jwt: { " + jwt + " } }");
    }

    static JWTClaimsSet.Builder claims(String sub) {
        return new JWTClaimsSet.Builder().subject(sub).issuer("https://idp.test/").audience("orders")
                .expirationTime(new Date(System.currentTimeMillis() + 600_000)).claim("roles", List.of("a", "b"));
    }

    static String sign(JWSAlgorithm alg, String kid, JWSSigner signer, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    static String rs256(JWTClaimsSet claims) throws Exception {
        return sign(JWSAlgorithm.RS256, "r1", new RSASSASigner(rsa), claims);
    }

    static Wire.Message get(int port, String token, String extra) throws Exception {
        return Gw.get(port, "/orders", (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + extra);
    }

    @Test
    void rsaAndEcTokensFromTheJwksPassAndTheirClaimsAreForwardedInsteadOfTheClients() throws Exception {
        try (TestProxy p = proxy("jwks: '" + jwksUrl() + "', issuer: 'https://idp.test/', audiences: [orders], "
                + "forward_claims: { sub: X-User-Id, roles: X-Roles }")) {
            int port = p.port("web");
            Wire.Message ok = get(port, rs256(claims("alice").build()), "X-User-Id: mallory\r\nX-Roles: admin\r\n");
            assertThat(ok.status()).isEqualTo(200);
            TestBackend.Seen seen = be.seen.poll();
            assertThat(seen.header("X-User-Id")).isEqualTo("alice");
            assertThat(seen.header("X-Roles")).isEqualTo("a,b");
            assertThat(seen.header("Authorization")).isNull();
            String es = sign(JWSAlgorithm.ES256, "e1", new ECDSASigner(ec), claims("bob").build());
            assertThat(get(port, es, "").status()).isEqualTo(200);
            assertThat(be.seen.poll().header("X-User-Id")).isEqualTo("bob");
            // a refused request never reaches the backend, whatever it claimed in X-User-Id
            Gw.assertJsonError(get(port, null, "X-User-Id: mallory\r\n"), 401, "a bearer token (JWT)");
            assertThat(be.seen).isEmpty();
        }
    }

    @Test
    void everyBadTokenIsRefusedWithItsReason() throws Exception {
        try (TestProxy p = proxy("jwks: '" + jwksUrl() + "', issuer: 'https://idp.test/', audiences: [orders], "
                + "clock_skew: 5s")) {
            int port = p.port("web");
            long now = System.currentTimeMillis();
            Wire.Message none = get(port, null, "");
            Gw.assertJsonError(none, 401, "no credentials");
            assertThat(none.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"portcullis\"");
            Gw.assertJsonError(get(port, "not.a.token", ""), 401, "malformed token");
            Gw.assertJsonError(get(port, rs256(claims("a").expirationTime(new Date(now - 60_000)).build()), ""), 401,
                    "token expired");
            Gw.assertJsonError(get(port, rs256(claims("a").notBeforeTime(new Date(now + 60_000)).build()), ""), 401,
                    "token not valid yet");
            Gw.assertJsonError(get(port, rs256(claims("a").audience("billing").build()), ""), 401,
                    "wrong token audience");
            Gw.assertJsonError(get(port, rs256(claims("a").issuer("https://evil.test/").build()), ""), 401,
                    "wrong token issuer");
            Gw.assertJsonError(get(port, rs256(claims("a").expirationTime(null).build()), ""), 401,
                    "token has no expiry");
            Gw.assertJsonError(get(port, rs256(claims(null).build()), ""), 401, "token has no 'sub' claim");
            // signed by another key under a known key id
            RSAKey other = new RSAKeyGenerator(2048).keyID("r1").generate();
            Gw.assertJsonError(get(port, sign(JWSAlgorithm.RS256, "r1", new RSASSASigner(other), claims("a").build()),
                    ""), 401, "invalid token signature");
            // alg none: not a signed JWT at all
            String unsigned = b64("{\"alg\":\"none\"}") + "." + b64(claims("a").build().toString()) + ".";
            Gw.assertJsonError(get(port, unsigned, ""), 401, "malformed token");
            // algorithm confusion: HS256 with the RSA public key as the secret is refused (no secret configured)
            byte[] pub = rsa.toPublicKey().getEncoded();
            String confused = sign(JWSAlgorithm.HS256, "r1", new MACSigner(pub), claims("a").build());
            Gw.assertJsonError(get(port, confused, ""), 401, "token algorithm HS256 is not accepted");
            assertThat(be.seen).isEmpty();
        }
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRotatedKeyIsFetchedOnceAndUnknownKeyIdsDoNotHammerTheProvider() throws Exception {
        try (TestProxy p = proxy("jwks: '" + jwksUrl() + "'")) {
            int port = p.port("web");
            assertThat(get(port, rs256(claims("a").build()), "").status()).isEqualTo(200);
            int before = fetches.get();
            RSAKey next = new RSAKeyGenerator(2048).keyID("r2").generate();
            published.add(next.toPublicJWK());
            try {
                String rotated = sign(JWSAlgorithm.RS256, "r2", new RSASSASigner(next), claims("a").build());
                // fetched at load; the refetch for an unknown key id waits for MIN_REFETCH after the last fetch
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(25))
                        .pollInterval(java.time.Duration.ofSeconds(2))
                        .until(() -> get(port, rotated, "").status() == 200);
                int after = fetches.get();
                assertThat(after - before).isEqualTo(1);
                RSAKey stranger = new RSAKeyGenerator(2048).keyID("zz").generate();
                String unknown = sign(JWSAlgorithm.RS256, "zz", new RSASSASigner(stranger), claims("a").build());
                for (int i = 0; i < 5; i++) {
                    Gw.assertJsonError(get(port, unknown, ""), 401, "unknown signing key");
                }
                assertThat(fetches.get()).isEqualTo(after);
            } finally {
                published.remove(next.toPublicJWK());
            }
        }
    }

    @Test
    void aJwksFileAndAnHmacSecretWorkAndTheTokenNamesTheConsumer() throws Exception {
        Path file = dir.resolve("jwks.json");
        Files.writeString(file, new JWKSet(ec.toPublicJWK()).toString(true));
        Path log = dir.resolve("access.log");
        try (TestProxy p = TestProxy.start("access_log: { path: '" + log + "', format: json }\n"
                + TestProxy.oneRouteYaml(Gw.CONSUMERS, be.address(), "", "auth: { jwt: { jwks: '" + file + "', secret: '"
                + SECRET + "' }, groups: [partners] }"))) {
            int port = p.port("web");
            String es = sign(JWSAlgorithm.ES256, "e1", new ECDSASigner(ec), claims("mobile").build());
            assertThat(get(port, es, "").status()).isEqualTo(200);
            String hs = sign(JWSAlgorithm.HS256, null, new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)),
                    claims("mobile").build());
            assertThat(get(port, hs, "").status()).isEqualTo(200);
            // a consumer outside the route's groups
            Gw.assertJsonError(get(port, sign(JWSAlgorithm.ES256, "e1", new ECDSASigner(ec), claims("web").build()),
                    ""), 403, "consumer 'web' may not use this route");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> Files.exists(log) && Files.readAllLines(log).size() >= 3);
            assertThat(Files.readAllLines(log).get(0)).contains("\"consumer\":\"mobile\"");
        }
    }

    @Test
    void aVerifiedTokenIsRememberedButItsExpiryStillHolds() throws Exception {
        try (TestProxy p = proxy("jwks: '" + jwksUrl() + "', clock_skew: 0s, forward_claims: { sub: X-User-Id }")) {
            int port = p.port("web");
            String token = rs256(claims("carol").expirationTime(new Date(System.currentTimeMillis() + 2_000)).build());
            for (int i = 0; i < 3; i++) { // the first verifies the signature, the others find the token remembered
                assertThat(get(port, token, "X-User-Id: mallory\r\n").status()).isEqualTo(200);
                assertThat(be.seen.poll().header("X-User-Id")).isEqualTo("carol");
            }
            Thread.sleep(2_200);
            Gw.assertJsonError(get(port, token, ""), 401, "token expired");
            // a token that differs in one signature character is not the remembered one
            String tampered = token.substring(0, token.length() - 2) + (token.endsWith("A") ? "B" : "A")
                    + token.charAt(token.length() - 1);
            assertThat(get(port, tampered, "").status()).isEqualTo(401);
        }
    }

    @Test
    void aJwksUrlThatNeverAnswersGets503AndTheProxyServesOn() throws Exception {
        try (TestProxy p = proxy("jwks: 'http://127.0.0.1:9/jwks.json'")) {
            int port = p.port("web");
            Gw.assertJsonError(get(port, rs256(claims("a").build()), ""), 503, "could not be fetched");
            Gw.assertJsonError(get(port, null, ""), 401, "no credentials");
        }
    }

    @Test
    void anUnusableJwksFileIsAConfigError() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"not\": \"a jwks\"}");
        assertThatThrownBy(() -> proxy("jwks: '" + file + "'")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("auth.jwt.jwks").hasMessageContaining("is not a JWKS");
    }
}
