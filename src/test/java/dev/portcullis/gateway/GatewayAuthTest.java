package dev.portcullis.gateway;

import static dev.portcullis.gateway.Gw.MOBILE_KEY;
import static dev.portcullis.gateway.Gw.WEB_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A route's {@code access} and {@code auth}, black-box: raw requests over real sockets (from several loopback
 * addresses for {@code access}), a real backend that records what reached it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayAuthTest {
    private static TestBackend be;
    private static Path users;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        be = TestBackend.start("be");
        // "mobile" is also a consumer (group partners); "alice" is a user no consumer names
        users = Gw.htpasswd("mobile", "m-secret", "alice", "wonderland");
    }

    @AfterAll
    static void stop() throws Exception {
        be.close();
        Files.deleteIfExists(users);
    }

    @BeforeEach
    void clear() {
        be.seen.clear();
    }

    /** Listener {@code web}, one route to {@link #be} with these gateway keys, consumers mobile and web. */
    private static TestProxy proxy(String routeExtra) throws Exception {
        return Gw.proxy(be, routeExtra);
    }

    // ---- access ----

    @Test
    void accessDenyWinsAndANonEmptyAllowAdmitsOnlyWhatItNames() throws Exception {
        try (TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: /open }
                        upstream: be
                        access: { allow: [127.0.0.0/8], deny: [127.0.0.3/32, 10.6.6.0/24] }
                      - match: { path_prefix: /only-one }
                        upstream: be
                        access: { allow: [127.0.0.1/32] }
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(be.address()))) {
            int port = p.port("web");
            String open = "GET /open HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
            String one = "GET /only-one HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
            assertThat(Gw.sendFrom("127.0.0.1", port, open).status()).isEqualTo(200);
            assertThat(Gw.sendFrom("127.0.0.2", port, open).status()).isEqualTo(200);
            assertThat(Gw.sendFrom("127.0.0.1", port, one).status()).isEqualTo(200);
            assertThat(be.seen).hasSize(3);
            be.seen.clear();

            Gw.assertJsonError(Gw.sendFrom("127.0.0.3", port, open), 403, "client 127.0.0.3 may not use this route");
            Gw.assertJsonError(Gw.sendFrom("127.0.0.2", port, one), 403, "client 127.0.0.2 may not use this route");
            // JSON whatever the client accepts: the gateway's clients are programs
            Wire.Message html = Gw.sendFrom("127.0.0.3", port, "GET /open HTTP/1.1\r\nHost: a\r\nAccept: text/html"
                    + "\r\nConnection: close\r\n\r\n");
            Gw.assertJsonError(html, 403, "(access)");
            assertThat(be.seen).isEmpty();
        }
    }

    // ---- api_key ----

    @Test
    void apiKeyInAHeaderIsCheckedAndNeverForwarded() throws Exception {
        try (TestProxy p = proxy("auth: { api_key: { header: X-API-Key } }")) {
            int port = p.port("web");
            Wire.Message none = Gw.get(port, "/a", "");
            Gw.assertJsonError(none, 401, "no credentials: this route needs an API key in the X-API-Key header");
            assertThat(none.header("WWW-Authenticate")).isEqualTo("APIKey realm=\"portcullis\", header=\"X-API-Key\"");

            Wire.Message unknown = Gw.get(port, "/a", "X-API-Key: not-a-key-of-anyone-0000\r\n");
            assertThat(Gw.assertJsonError(unknown, 401, "invalid API key").get("message")).isEqualTo("invalid API key");
            assertThat(unknown.header("WWW-Authenticate")).startsWith("APIKey ");

            Wire.Message two = Gw.get(port, "/a", "X-API-Key: " + MOBILE_KEY + "\r\nX-API-Key: " + MOBILE_KEY
                    + "\r\n");
            Gw.assertJsonError(two, 401, "malformed credentials: send exactly one API key");
            Gw.assertJsonError(Gw.get(port, "/a", "X-API-Key: \r\n"), 401, "malformed credentials");
            // a key of the right shape in the wrong place is no credential
            Gw.assertJsonError(Gw.get(port, "/a?api_key=" + MOBILE_KEY, ""), 401, "no credentials");
            assertThat(be.seen).isEmpty();

            Wire.Message ok = Gw.get(port, "/a?x=1", "x-api-key: " + MOBILE_KEY + "\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.bodyText()).isEqualTo("be GET /a?x=1");
            TestBackend.Seen seen = be.seen.poll();
            assertThat(seen.header("X-API-Key")).isNull();
            assertThat(Gw.get(port, "/b", "X-API-Key: " + WEB_KEY + "\r\n").status()).isEqualTo(200);
        }
    }

    @Test
    void apiKeyInTheQueryIsStrippedFromTheUpstreamUriAndTheOtherParametersStay() throws Exception {
        try (TestProxy p = proxy("auth: { api_key: { header: X-API-Key, query: api_key } }")) {
            int port = p.port("web");
            Wire.Message none = Gw.get(port, "/items?a=1", "");
            Gw.assertJsonError(none, 401, "an API key in the X-API-Key header or the 'api_key' query parameter");
            assertThat(none.header("WWW-Authenticate"))
                    .isEqualTo("APIKey realm=\"portcullis\", header=\"X-API-Key\", query=\"api_key\"");

            assertThat(Gw.get(port, "/items?a=1&api_key=" + MOBILE_KEY + "&b=x%20y&c", "").status()).isEqualTo(200);
            assertThat(be.seen.poll().uri()).isEqualTo("/items?a=1&b=x%20y&c");
            assertThat(Gw.get(port, "/items?api_key=" + MOBILE_KEY, "").bodyText()).isEqualTo("be GET /items");
            assertThat(be.seen.poll().uri()).isEqualTo("/items");
            // the header works on the same route and is stripped too
            assertThat(Gw.get(port, "/h?z=9", "X-API-Key: " + WEB_KEY + "\r\n").status()).isEqualTo(200);
            TestBackend.Seen h = be.seen.poll();
            assertThat(h.uri()).isEqualTo("/h?z=9");
            assertThat(h.header("X-API-Key")).isNull();

            Gw.assertJsonError(Gw.get(port, "/items?api_key=wrong-wrong-wrong-wrong", ""), 401, "invalid API key");
            Gw.assertJsonError(Gw.get(port, "/items?api_key=" + MOBILE_KEY + "&api_key=" + MOBILE_KEY, ""), 401,
                    "malformed credentials");
            assertThat(be.seen).isEmpty();
        }
    }

    @Test
    void keepCredentialsPassesTheKeyOn() throws Exception {
        try (TestProxy p = proxy("auth: { api_key: { query: key }, keep_credentials: true }")) {
            assertThat(Gw.get(p.port("web"), "/k?key=" + MOBILE_KEY + "&a=1", "").status()).isEqualTo(200);
            assertThat(be.seen.poll().uri()).isEqualTo("/k?key=" + MOBILE_KEY + "&a=1");
        }
        try (TestProxy p = proxy("auth: { api_key: {}, keep_credentials: true }")) {
            assertThat(Gw.get(p.port("web"), "/k", "X-API-Key: " + MOBILE_KEY + "\r\n").status()).isEqualTo(200);
            assertThat(be.seen.poll().header("X-API-Key")).isEqualTo(MOBILE_KEY);
        }
    }

    @Test
    void theAccessLogNamesTheConsumerAndShowsNoKey() throws Exception {
        Path log = dir.resolve("access.json");
        String yaml = "access_log: { path: '" + log + "', format: json }\n" + TestProxy.oneRouteYaml(Gw.CONSUMERS,
                be.address(), "", "auth: { api_key: { header: X-API-Key, query: api_key } }");
        try (TestProxy p = TestProxy.start(yaml)) {
            int port = p.port("web");
            assertThat(Gw.get(port, "/anon", "").status()).isEqualTo(401);
            assertThat(Gw.get(port, "/who", "X-API-Key: " + MOBILE_KEY + "\r\n").status()).isEqualTo(200);
            assertThat(Gw.get(port, "/q?a=1&api_key=" + WEB_KEY, "").status()).isEqualTo(200);
            assertThat(Gw.get(port, "/bad?api_key=" + MOBILE_KEY + "x", "").status()).isEqualTo(401);
            // the header decides, and the query's key is masked all the same
            assertThat(Gw.get(port, "/both?api_key=" + MOBILE_KEY, "X-API-Key: " + WEB_KEY + "\r\n").status())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log)
                    && Files.readAllLines(log).size() == 5);
            List<String> lines = Files.readAllLines(log);
            // each request had its own connection, on either event loop: lines are found by path, not by order
            Map<String, Map<String, String>> byPath = new java.util.HashMap<>();
            for (String line : lines) {
                Map<String, String> entry = Gw.json(line);
                byPath.put(entry.get("uri").replaceFirst("\\?.*", ""), entry);
            }
            Map<String, String> anon = byPath.get("/anon");
            Map<String, String> who = byPath.get("/who");
            Map<String, String> query = byPath.get("/q");
            assertThat(anon.get("status")).isEqualTo("401");
            assertThat(anon).doesNotContainKey("consumer");
            assertThat(who.get("uri")).isEqualTo("/who");
            assertThat(who.get("consumer")).isEqualTo("mobile");

            assertThat(query.get("consumer")).isEqualTo("web");
            // a key in the query is a credential: the log keeps the request's shape, not the key
            assertThat(String.join("\n", lines)).doesNotContain(MOBILE_KEY, WEB_KEY);
            assertThat(query.get("uri")).isEqualTo("/q?a=1&api_key=******");
            // a wrong key may be a right one mistyped
            assertThat(byPath.get("/bad").get("uri")).isEqualTo("/bad?api_key=******");
            assertThat(byPath.get("/both").get("uri")).isEqualTo("/both?api_key=******");
            assertThat(byPath.get("/both").get("consumer")).isEqualTo("web");
        }
    }

    // ---- basic ----

    @Test
    void basicChecksThePasswordAndNeverForwardsTheAuthorization() throws Exception {
        try (TestProxy p = proxy("auth: { basic: { htpasswd: " + users + ", realm: api } }")) {
            int port = p.port("web");
            Wire.Message none = Gw.get(port, "/b", "");
            Gw.assertJsonError(none, 401, "no credentials: this route needs HTTP Basic credentials");
            assertThat(none.header("WWW-Authenticate")).isEqualTo("Basic realm=\"api\", charset=\"UTF-8\"");

            Wire.Message wrong = Gw.get(port, "/b", "Authorization: " + Gw.basic("alice", "queen") + "\r\n");
            Gw.assertJsonError(wrong, 401, "wrong user name or password");
            assertThat(wrong.header("WWW-Authenticate")).isEqualTo("Basic realm=\"api\", charset=\"UTF-8\"");
            Gw.assertJsonError(Gw.get(port, "/b", "Authorization: " + Gw.basic("mallory", "x") + "\r\n"), 401,
                    "wrong user name or password");
            Gw.assertJsonError(Gw.get(port, "/b", "Authorization: Basic !!!\r\n"), 401, "malformed credentials");
            assertThat(be.seen).isEmpty();

            Wire.Message ok = Gw.get(port, "/b", "Authorization: " + Gw.basic("alice", "wonderland") + "\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(be.seen.poll().header("Authorization")).isNull();
        }
    }

    @Test
    void aBodyThatArrivesWhileThePasswordIsCheckedReachesTheBackendWhole() throws Exception {
        byte[] body = new byte[300_000];
        new Random(7).nextBytes(body);
        try (TestProxy p = proxy("auth: { basic: { htpasswd: " + users + " } }");
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            // a wrong password first, its body sent along: 401, and the connection serves the next request
            out.write(("POST /up HTTP/1.1\r\nHost: a\r\nAuthorization: " + Gw.basic("alice", "queen")
                    + "\r\nContent-Length: 5\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            Gw.assertJsonError(Wire.readResponse(in, false), 401, "wrong user name or password");
            out.write(("POST /up HTTP/1.1\r\nHost: a\r\nAuthorization: " + Gw.basic("alice", "wonderland")
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            for (int off = 0; off < body.length; off += 16_384) {
                out.write(body, off, Math.min(16_384, body.length - off));
                out.flush();
            }
            Wire.Message ok = Wire.readResponse(in, false);
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.bodyText()).isEqualTo("be POST /up");
            assertThat(be.seen).hasSize(1);
            TestBackend.Seen seen = be.seen.poll();
            assertThat(seen.body()).isEqualTo(body);
            assertThat(seen.header("Authorization")).isNull();
            // chunked, on the same connection
            out.write(("POST /chunked HTTP/1.1\r\nHost: a\r\nAuthorization: " + Gw.basic("mobile", "m-secret")
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(Wire.readResponse(in, false).status()).isEqualTo(200);
            assertThat(new String(be.seen.poll().body(), StandardCharsets.ISO_8859_1)).isEqualTo("abcdefg");
        }
    }

    @Test
    void aClientThatLeavesWhileItsPasswordIsCheckedLeavesNothingBehind() throws Exception {
        try (TestProxy p = proxy("auth: { basic: { htpasswd: " + users + " } }")) {
            int port = p.port("web");
            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.getOutputStream().write(("POST /gone HTTP/1.1\r\nHost: a\r\nAuthorization: "
                            + Gw.basic("alice", "wonderland") + "\r\nContent-Length: 100000\r\n\r\n"
                            + "x".repeat(20_000)).getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                }
            }
            // the held body parts were released (the leak detector would say otherwise after the class), and the
            // proxy serves on
            Wire.Message ok = Gw.get(port, "/after", "Authorization: " + Gw.basic("alice", "wonderland") + "\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(be.seen.stream().map(TestBackend.Seen::uri)).doesNotContain("/gone");
        }
    }

    @Test
    void pipelinedRequestsWaitingForTheirPasswordsAreAnsweredInOrder() throws Exception {
        try (TestProxy p = proxy("auth: { basic: { htpasswd: " + users + " } }\n"
                + "rate_limit: { key: consumer, rate: 2/m }\n"
                + "headers: { request: { set: { X-Consumer: \"{consumer.name}\" } } }");
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(10_000);
            StringBuilder all = new StringBuilder();
            String[] passwords = {"wonderland", "queen", "wonderland", "wonderland"};
            for (int i = 0; i < passwords.length; i++) {
                all.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: a\r\nAuthorization: ")
                        .append(Gw.basic("alice", passwords[i])).append("\r\n\r\n");
            }
            s.getOutputStream().write(all.toString().getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            Wire.Message first = Wire.readResponse(in, false);
            assertThat(first.bodyText()).isEqualTo("be GET /p0");
            assertThat(first.header("RateLimit-Remaining")).isEqualTo("1");
            Gw.assertJsonError(Wire.readResponse(in, false), 401, "wrong user name or password");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("be GET /p2");
            // counted once authenticated, by the user's name
            Gw.assertJsonError(Wire.readResponse(in, false), 429, "rate limit of 2 requests per minute");
            assertThat(be.seen).hasSize(2).allSatisfy(seen -> {
                assertThat(seen.header("X-Consumer")).isEqualTo("alice");
                assertThat(seen.header("Authorization")).isNull();
            });
        }
    }

    @Test
    void aListenersDefaultsGuardEveryRouteThatDoesNotSetItsOwn() throws Exception {
        try (TestProxy p = TestProxy.start(Gw.CONSUMERS + """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    defaults:
                      upstream: be
                      auth: { api_key: {} }
                    routes:
                      - match: { path_prefix: /public }
                        auth: { api_key: { query: key }, groups: [internal] }
                      - match: { path_prefix: / }
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(be.address()))) {
            int port = p.port("web");
            Gw.assertJsonError(Gw.get(port, "/x", ""), 401, "X-API-Key header");
            assertThat(Gw.get(port, "/x", "X-API-Key: " + MOBILE_KEY + "\r\n").status()).isEqualTo(200);
            Gw.assertJsonError(Gw.get(port, "/public?key=" + MOBILE_KEY, ""), 403, "consumer 'mobile'");
            assertThat(Gw.get(port, "/public?key=" + WEB_KEY, "").status()).isEqualTo(200);
            assertThat(be.seen.stream().map(TestBackend.Seen::uri)).containsExactly("/x", "/public");
        }
    }

    // ---- any_of and groups ----

    @Test
    void anyOfChallengesWithEveryMethodAndTakesEither() throws Exception {
        try (TestProxy p = proxy("auth: { any_of: [ { api_key: {} }, { basic: { htpasswd: " + users
                + ", realm: api } } ] }")) {
            int port = p.port("web");
            Wire.Message none = Gw.get(port, "/x", "");
            Gw.assertJsonError(none, 401, "an API key in the X-API-Key header or HTTP Basic credentials");
            assertThat(none.header("WWW-Authenticate")).contains("APIKey realm=\"portcullis\"", "header=\"X-API-Key\"",
                    "Basic realm=\"api\"");
            assertThat(Gw.get(port, "/x", "X-API-Key: " + MOBILE_KEY + "\r\n").status()).isEqualTo(200);
            assertThat(Gw.get(port, "/x", "Authorization: " + Gw.basic("alice", "wonderland") + "\r\n").status())
                    .isEqualTo(200);
            assertThat(be.seen).hasSize(2).allSatisfy(s -> {
                assertThat(s.header("X-API-Key")).isNull();
                assertThat(s.header("Authorization")).isNull();
            });
            // the first method whose credentials the request carries decides: a wrong key is not saved by a password
            Gw.assertJsonError(Gw.get(port, "/x", "X-API-Key: wrong-wrong-wrong-wrong\r\nAuthorization: "
                    + Gw.basic("alice", "wonderland") + "\r\n"), 401, "invalid API key");
        }
    }

    @Test
    void aConsumerOutsideTheRoutesGroupsIsForbidden() throws Exception {
        try (TestProxy p = proxy("auth: { any_of: [ { api_key: {} }, { basic: { htpasswd: " + users
                + " } } ], groups: [partners] }")) {
            int port = p.port("web");
            assertThat(Gw.get(port, "/g", "X-API-Key: " + MOBILE_KEY + "\r\n").status()).isEqualTo(200);
            // an htpasswd user named like a consumer has that consumer's groups
            assertThat(Gw.get(port, "/g", "Authorization: " + Gw.basic("mobile", "m-secret") + "\r\n").status())
                    .isEqualTo(200);
            assertThat(be.seen).hasSize(2);
            be.seen.clear();
            Wire.Message web = Gw.get(port, "/g", "X-API-Key: " + WEB_KEY + "\r\n");
            Gw.assertJsonError(web, 403, "consumer 'web' may not use this route (auth.groups)");
            assertThat(web.header("WWW-Authenticate")).isNull();
            Gw.assertJsonError(Gw.get(port, "/g", "Authorization: " + Gw.basic("alice", "wonderland") + "\r\n"),
                    403, "consumer 'alice' may not use this route");
            assertThat(be.seen).isEmpty();
        }
    }
}
