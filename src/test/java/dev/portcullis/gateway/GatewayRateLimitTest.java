package dev.portcullis.gateway;

import static dev.portcullis.gateway.Gw.MOBILE_KEY;
import static dev.portcullis.gateway.Gw.WEB_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A route's {@code rate_limit} with the local store, black-box. Rates are per minute, so no bucket refills while a
 * test runs (refill over time is {@link LocalRateLimiterTest}'s, with explicit clocks); clients are told apart by
 * their loopback source address.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayRateLimitTest {
    private static TestBackend be;

    @BeforeAll
    static void start() throws IOException {
        be = TestBackend.start("be");
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

    private static Wire.Message from(String ip, int port, String headerLines) throws IOException {
        return Gw.sendFrom(ip, port, "GET /r HTTP/1.1\r\nHost: a\r\n" + headerLines + "Connection: close\r\n\r\n");
    }

    /** Asserts a 429 of a {@code limit}-per-minute policy. */
    private static void assertLimited(Wire.Message m, int limit, String policy) throws IOException {
        Map<String, String> j = Gw.assertJsonError(m, 429, "rate limit of " + limit + " requests per minute exceeded");
        long retryAfter = Long.parseLong(m.header("Retry-After"));
        assertThat(retryAfter).isBetween(1L, 60L / limit);
        assertThat(j.get("message")).endsWith("retry in " + retryAfter + " s");
        assertThat(m.header("RateLimit-Limit")).isEqualTo(Integer.toString(limit));
        assertThat(m.header("RateLimit-Remaining")).isEqualTo("0");
        assertThat(Long.parseLong(m.header("RateLimit-Reset"))).isBetween(1L, 60L);
        assertThat(m.header("RateLimit-Policy")).isEqualTo(policy);
    }

    @Test
    void aConsumersOwnLimitHoldsOnEveryRouteThatAuthenticatesIt() throws Exception {
        try (TestProxy p = TestProxy.start("""
                consumers:
                  - { name: mobile, api_keys: ["%s"], rate_limit: { rate: 3/m } }
                  - { name: web, api_keys: ["%s"] }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: /a }
                        upstream: be
                        auth: { api_key: {} }
                      - match: { path_prefix: /b }
                        upstream: be
                        auth: { api_key: {} }
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(MOBILE_KEY, WEB_KEY, be.address()))) {
            int port = p.port("web");
            String mobile = "X-API-Key: " + MOBILE_KEY + "\r\n";
            assertThat(Gw.get(port, "/a", mobile).status()).isEqualTo(200);
            assertThat(Gw.get(port, "/b", mobile).status()).isEqualTo(200);
            assertThat(Gw.get(port, "/a", mobile).status()).isEqualTo(200);
            Wire.Message over = Gw.get(port, "/b", mobile);
            Gw.assertJsonError(over, 429, "consumer 'mobile' is over its rate limit of 3 requests");
            assertThat(over.header("Retry-After")).isEqualTo("20");
            assertThat(over.header("RateLimit-Policy")).isEqualTo("3;w=60");
            // another consumer, without a limit of its own, is not held back
            for (int i = 0; i < 5; i++) {
                assertThat(Gw.get(port, "/a", "X-API-Key: " + WEB_KEY + "\r\n").status()).isEqualTo(200);
            }
        }
    }

    @Test
    void rejectionsAndEachConsumersRequestsAreInTheMetrics() throws Exception {
        try (TestProxy p = proxy("name: orders\nauth: { api_key: {}, groups: [partners] }\n"
                + "rate_limit: { key: consumer, rate: 2/m, burst: 2 }")) {
            int port = p.port("web");
            for (int i = 0; i < 3; i++) {
                Gw.get(port, "/m", "X-API-Key: " + MOBILE_KEY + "\r\n"); // 200, 200, 429
            }
            Gw.get(port, "/m", "X-API-Key: " + WEB_KEY + "\r\n"); // 403: not a partner
            Gw.get(port, "/m", ""); // 401
            String m = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + p.adminPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(m)
                    .contains("portcullis_gateway_rejected_total{listener=\"web\",reason=\"rate_limit\",route=\"orders\"} 1.0")
                    .contains("portcullis_gateway_rejected_total{listener=\"web\",reason=\"group\",route=\"orders\"} 1.0")
                    .contains("portcullis_gateway_rejected_total{listener=\"web\",reason=\"auth\",route=\"orders\"} 1.0")
                    .contains("portcullis_consumer_requests_total{consumer=\"mobile\",listener=\"web\",route=\"orders\","
                            + "status=\"2xx\"} 2.0")
                    .contains("portcullis_consumer_requests_total{consumer=\"mobile\",listener=\"web\",route=\"orders\","
                            + "status=\"4xx\"} 1.0")
                    .contains("portcullis_consumer_requests_total{consumer=\"web\",listener=\"web\",route=\"orders\","
                            + "status=\"4xx\"} 1.0")
                    .contains("portcullis_consumer_request_duration_seconds_count{consumer=\"mobile\",listener=\"web\","
                            + "route=\"orders\"} 3");
        }
    }

    @Test
    void aBurstPassesWithCountingHeadersThenTheClientIsLimited() throws Exception {
        try (TestProxy p = proxy("rate_limit: { key: client_ip, rate: 5/m, burst: 5 }")) {
            int port = p.port("web");
            long lastReset = 0;
            for (int i = 0; i < 5; i++) {
                Wire.Message ok = from("127.0.0.1", port, "");
                assertThat(ok.status()).as("request %d", i + 1).isEqualTo(200);
                assertThat(ok.header("RateLimit-Limit")).isEqualTo("5");
                assertThat(ok.header("RateLimit-Remaining")).as("request %d", i + 1).isEqualTo(Integer.toString(4 - i));
                assertThat(ok.header("RateLimit-Policy")).isEqualTo("5;w=60");
                // seconds until the bucket is full again: one interval (12 s) more with each request
                long reset = Long.parseLong(ok.header("RateLimit-Reset"));
                assertThat(reset).isGreaterThan(lastReset).isBetween(12L * i, 12L * (i + 1));
                lastReset = reset;
                assertThat(ok.header("Retry-After")).isNull();
            }
            for (int i = 0; i < 3; i++) {
                assertLimited(from("127.0.0.1", port, ""), 5, "5;w=60");
            }
            assertThat(be.seen).hasSize(5);
            // another client has its own bucket
            Wire.Message other = from("127.0.0.2", port, "");
            assertThat(other.status()).isEqualTo(200);
            assertThat(other.header("RateLimit-Remaining")).isEqualTo("4");
        }
    }

    @Test
    void aBurstBelowTheRateIsAllThatComesAtOnceAndThePolicySaysSo() throws Exception {
        try (TestProxy p = proxy("rate_limit: { rate: 60/m, burst: 2 }")) {
            int port = p.port("web");
            assertThat(from("127.0.0.1", port, "").header("RateLimit-Remaining")).isEqualTo("1");
            Wire.Message second = from("127.0.0.1", port, "");
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.header("RateLimit-Remaining")).isEqualTo("0");
            assertThat(second.header("RateLimit-Policy")).isEqualTo("60;w=60;burst=2");
            Wire.Message limited = from("127.0.0.1", port, "");
            Gw.assertJsonError(limited, 429, "rate limit of 60 requests per minute exceeded");
            assertThat(limited.header("Retry-After")).isEqualTo("1");
        }
    }

    @Test
    void aHeaderKeyCountsEachValueApartAndARequestWithoutItIsNotCounted() throws Exception {
        try (TestProxy p = proxy("rate_limit: { key: \"header:X-Tenant\", rate: 2/m }")) {
            int port = p.port("web");
            for (int i = 0; i < 2; i++) {
                assertThat(from("127.0.0.1", port, "X-Tenant: acme\r\n").status()).isEqualTo(200);
            }
            assertLimited(from("127.0.0.1", port, "X-Tenant: acme\r\n"), 2, "2;w=60");
            // from another address too: the tenant is counted, not the client
            assertLimited(from("127.0.0.2", port, "X-Tenant: acme\r\n"), 2, "2;w=60");
            Wire.Message other = from("127.0.0.1", port, "X-Tenant: globex\r\n");
            assertThat(other.status()).isEqualTo(200);
            assertThat(other.header("RateLimit-Remaining")).isEqualTo("1");
            for (int i = 0; i < 4; i++) {
                Wire.Message none = from("127.0.0.1", port, "");
                assertThat(none.status()).isEqualTo(200);
                assertThat(none.header("RateLimit-Limit")).isNull();
            }
            assertThat(be.seen).hasSize(2 + 1 + 4);
        }
    }

    @Test
    void aConsumerKeyCountsPerConsumerWhateverItsAddress() throws Exception {
        try (TestProxy p = proxy("auth: { api_key: {} }\nrate_limit: { key: consumer, rate: 2/m }")) {
            int port = p.port("web");
            String mobile = "X-API-Key: " + MOBILE_KEY + "\r\n";
            assertThat(from("127.0.0.1", port, mobile).status()).isEqualTo(200);
            assertThat(from("127.0.0.2", port, mobile).header("RateLimit-Remaining")).isEqualTo("0");
            assertLimited(from("127.0.0.3", port, mobile), 2, "2;w=60");
            // another consumer, from the same address, has its own bucket
            String web = "X-API-Key: " + WEB_KEY + "\r\n";
            assertThat(from("127.0.0.1", port, web).header("RateLimit-Remaining")).isEqualTo("1");
            assertThat(from("127.0.0.1", port, web).status()).isEqualTo(200);
            assertLimited(from("127.0.0.1", port, web), 2, "2;w=60");
            // authentication comes first: no credentials is a 401, and no rate limit header
            Wire.Message anon = from("127.0.0.1", port, "");
            Gw.assertJsonError(anon, 401, "no credentials");
            assertThat(anon.header("RateLimit-Limit")).isNull();
            assertThat(be.seen).hasSize(4);
            assertThat(be.seen).allSatisfy(s -> assertThat(s.header("X-API-Key")).isNull());
        }
    }

    @Test
    void aRouteKeyIsOneBucketForEveryone() throws Exception {
        try (TestProxy p = proxy("rate_limit: { key: route, rate: 3/m }")) {
            int port = p.port("web");
            assertThat(from("127.0.0.1", port, "").status()).isEqualTo(200);
            assertThat(from("127.0.0.2", port, "").status()).isEqualTo(200);
            assertThat(from("127.0.0.3", port, "").header("RateLimit-Remaining")).isEqualTo("0");
            assertLimited(from("127.0.0.4", port, ""), 3, "3;w=60");
        }
    }

    @Test
    void aKeepAliveConnectionGetsItsAnswersAndThe429sInOrder() throws Exception {
        try (TestProxy p = proxy("rate_limit: { rate: 2/m }");
             java.net.Socket s = new java.net.Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(10_000);
            String req = "GET /k HTTP/1.1\r\nHost: a\r\n\r\n";
            s.getOutputStream().write((req + req + req + req).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            int[] statuses = new int[4];
            for (int i = 0; i < 4; i++) {
                statuses[i] = Wire.readResponse(s.getInputStream(), false).status();
            }
            assertThat(statuses).containsExactly(200, 200, 429, 429);
        }
    }
}
