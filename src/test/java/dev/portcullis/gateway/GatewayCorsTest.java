package dev.portcullis.gateway;

import static dev.portcullis.gateway.Gw.MOBILE_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A route's {@code cors}, black-box: preflights answered by the proxy, and the CORS headers of the responses that
 * pass, the upstream's and the proxy's own (401, 429) alike. The backend sends CORS headers of its own, which the
 * route's policy replaces.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayCorsTest {
    private static final String APP = "https://app.example.com";
    private static final String EVIL = "https://evil.example.net";
    /** With credentials, two origins, api_key auth and a small rate limit. */
    private static final String POLICY = """
            auth: { api_key: {} }
            rate_limit: { rate: 3/m }
            cors:
              allow_origins: ["https://app.example.com", "http://localhost:3000"]
              allow_methods: [GET, POST, PUT]
              allow_headers: [Authorization, X-API-Key]
              expose_headers: [X-Total]
              allow_credentials: true
              max_age: 1h
            """;

    private static TestBackend be;

    @BeforeAll
    static void start() throws IOException {
        be = TestBackend.start("be", ex -> {
            ex.getRequestBody().readAllBytes();
            be.seen.add(new TestBackend.Seen(ex.getRequestMethod(), ex.getRequestURI().toString(),
                    java.util.Map.copyOf(ex.getRequestHeaders()), new byte[0]));
            byte[] out = "ok".getBytes(StandardCharsets.UTF_8);
            // a backend with a CORS opinion of its own
            ex.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
            ex.getResponseHeaders().set("Access-Control-Expose-Headers", "X-Secret");
            ex.getResponseHeaders().set("X-Total", "42");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        });
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @BeforeEach
    void clear() {
        be.seen.clear();
    }

    private static TestProxy proxy(String routeExtra) throws Exception {
        return Gw.proxy(be, routeExtra);
    }

    private static Wire.Message preflight(int port, String origin, String method, String headers) throws IOException {
        return Gw.send(port, "OPTIONS /api/items HTTP/1.1\r\nHost: api.test\r\nOrigin: " + origin
                + "\r\nAccess-Control-Request-Method: " + method + "\r\n"
                + (headers == null ? "" : "Access-Control-Request-Headers: " + headers + "\r\n")
                + "Connection: close\r\n\r\n");
    }

    /** The field names of every Vary line, lower case (they are case-insensitive, RFC 9110 12.5.5). */
    private static java.util.List<String> vary(Wire.Message m) {
        return Gw.all(m, "Vary").stream().flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .map(v -> v.trim().toLowerCase(java.util.Locale.ROOT)).toList();
    }

    @Test
    void aPreflightFromAnAllowedOriginIsAnsweredHereWithoutCredentials() throws Exception {
        try (TestProxy p = proxy(POLICY)) {
            int port = p.port("web");
            Wire.Message ok = preflight(port, APP, "PUT", "X-API-Key, authorization");
            assertThat(ok.status()).isEqualTo(204);
            assertThat(ok.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(ok.header("Access-Control-Allow-Methods")).isEqualTo("GET, POST, PUT");
            assertThat(ok.header("Access-Control-Allow-Headers")).isEqualToIgnoringCase("authorization, x-api-key");
            assertThat(ok.header("Access-Control-Max-Age")).isEqualTo("3600");
            assertThat(ok.header("Access-Control-Allow-Credentials")).isEqualTo("true");
            assertThat(vary(ok)).contains("origin", "access-control-request-method",
                    "access-control-request-headers");
            assertThat(ok.header("Content-Length")).as("a 204 has no Content-Length (RFC 9110 8.6)").isNull();
            assertThat(ok.body()).isEmpty();
            // the other origin, no requested headers, and a safelisted method never listed
            Wire.Message other = preflight(port, "http://localhost:3000", "GET", null);
            assertThat(other.status()).isEqualTo(204);
            assertThat(other.header("Access-Control-Allow-Origin")).isEqualTo("http://localhost:3000");
            // preflights are the proxy's: never upstream, never counted by the rate limit
            for (int i = 0; i < 5; i++) {
                assertThat(preflight(port, APP, "POST", null).status()).isEqualTo(204);
            }
            assertThat(be.seen).isEmpty();
            assertThat(Gw.get(port, "/api", "X-API-Key: " + MOBILE_KEY + "\r\n").header("RateLimit-Remaining"))
                    .isEqualTo("2");
        }
    }

    @Test
    void aPreflightOutsideThePolicyIsRefusedWithoutAnyAllowHeader() throws Exception {
        try (TestProxy p = proxy(POLICY)) {
            int port = p.port("web");
            Wire.Message origin = preflight(port, EVIL, "GET", null);
            Gw.assertJsonError(origin, 403, "origin " + EVIL + " is not allowed by this route's cors.allow_origins");
            assertThat(Gw.allowHeaders(origin)).isEmpty();
            Wire.Message method = preflight(port, APP, "DELETE", null);
            Gw.assertJsonError(method, 403, "method DELETE is not allowed by this route's cors.allow_methods");
            assertThat(Gw.allowHeaders(method)).isEmpty();
            Wire.Message header = preflight(port, APP, "PUT", "X-API-Key, X-Other");
            Gw.assertJsonError(header, 403, "request header x-other is not allowed by this route's cors.allow_headers");
            assertThat(Gw.allowHeaders(header)).isEmpty();
            Wire.Message nullOrigin = preflight(port, "null", "GET", null);
            assertThat(nullOrigin.status()).isEqualTo(403);
            assertThat(Gw.allowHeaders(nullOrigin)).isEmpty();
            assertThat(be.seen).isEmpty();
        }
    }

    @Test
    void responsesToAnAllowedOriginCarryThePolicyAndOthersNone() throws Exception {
        try (TestProxy p = proxy(POLICY)) {
            int port = p.port("web");
            String key = "X-API-Key: " + MOBILE_KEY + "\r\n";
            Wire.Message ok = Gw.get(port, "/api", "Origin: " + APP + "\r\n" + key);
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(ok.header("Access-Control-Allow-Credentials")).isEqualTo("true");
            assertThat(ok.header("Access-Control-Expose-Headers")).isEqualTo("X-Total");
            assertThat(Gw.all(ok, "Access-Control-Allow-Origin")).hasSize(1);
            assertThat(vary(ok)).containsOnlyOnce("origin");
            assertThat(ok.header("X-Total")).isEqualTo("42");
            assertThat(be.seen.poll().header("Origin")).isEqualTo(APP);

            // another origin: the request passes (CORS is the browser's to enforce), without any CORS header, the
            // upstream's own "*" included
            Wire.Message evil = Gw.get(port, "/api", "Origin: " + EVIL + "\r\n" + key);
            assertThat(evil.status()).isEqualTo(200);
            assertThat(evil.headerNames()).noneMatch(n -> n.startsWith("access-control-"));
            assertThat(vary(evil)).containsOnlyOnce("origin");

            // not a CORS request: the upstream's headers untouched, but Vary: Origin all the same, so that no cache
            // hands this answer to a CORS request
            Wire.Message plain = Gw.get(port, "/api", key);
            assertThat(plain.header("Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(vary(plain)).containsOnlyOnce("origin");
        }
    }

    @Test
    void theProxysOwn401And429ReachAnAllowedOriginsPage() throws Exception {
        try (TestProxy p = proxy(POLICY)) {
            int port = p.port("web");
            Wire.Message unauthorized = Gw.get(port, "/api", "Origin: " + APP + "\r\n");
            Gw.assertJsonError(unauthorized, 401, "no credentials");
            assertThat(unauthorized.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(unauthorized.header("Access-Control-Allow-Credentials")).isEqualTo("true");
            assertThat(vary(unauthorized)).containsOnlyOnce("origin");
            Wire.Message evil = Gw.get(port, "/api", "Origin: " + EVIL + "\r\n");
            assertThat(evil.status()).isEqualTo(401);
            assertThat(Gw.allowHeaders(evil)).isEmpty();

            // the limit is by address, counted before the credentials: the two refused requests took two of three
            String key = "X-API-Key: " + MOBILE_KEY + "\r\n";
            assertThat(Gw.get(port, "/api", key).status()).isEqualTo(200);
            Wire.Message limited = Gw.get(port, "/api", "Origin: " + APP + "\r\n" + key);
            Gw.assertJsonError(limited, 429, "rate limit");
            assertThat(limited.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(limited.header("Retry-After")).isNotNull();
        }
    }

    @Test
    void anyOriginWithoutCredentialsIsAStar() throws Exception {
        try (TestProxy p = proxy("cors: { allow_origins: [\"*\"], allow_headers: [\"*\"] }")) {
            int port = p.port("web");
            Wire.Message ok = Gw.get(port, "/pub", "Origin: " + EVIL + "\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.header("Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(ok.header("Access-Control-Allow-Credentials")).isNull();
            assertThat(ok.header("Access-Control-Expose-Headers")).isNull();
            // the same answer for every origin: nothing for caches to vary on
            assertThat(vary(ok)).doesNotContain("origin");

            Wire.Message pre = preflight(port, EVIL, "POST", "X-Anything, Content-Type");
            assertThat(pre.status()).isEqualTo(204);
            assertThat(pre.header("Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(pre.header("Access-Control-Allow-Headers")).isEqualToIgnoringCase("x-anything, content-type");
            assertThat(pre.header("Access-Control-Allow-Methods")).isEqualTo("GET, HEAD, POST");
            assertThat(pre.header("Access-Control-Max-Age")).isNull();
            // methods outside the default list need listing
            assertThat(preflight(port, EVIL, "DELETE", null).status()).isEqualTo(403);
            assertThat(be.seen).hasSize(1);
        }
    }
}
