package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import dev.portcullis.upstream.CircuitBreaker;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code circuit_breaker}: max_requests, max_connections, max_pending; a fast 503 that says which. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CircuitBreakerTest {
    private static final int TIMEOUT = 5000;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static TestProxy proxy(String endpoints, String upstreamExtra, String routeExtra) throws Exception {
        return TestProxy.start(TestProxy.oneRouteYaml("workers: 1\n", endpoints, upstreamExtra, routeExtra));
    }

    private static CircuitBreaker breaker(TestProxy p) {
        return p.process().snapshot().upstreams().get("be").breaker();
    }

    /** Answers 200 "slow" after {@code delayMillis}, counting requests as they arrive. */
    private static TestBackend slow(long delayMillis, AtomicInteger arrived) throws Exception {
        return TestBackend.start("slow", ex -> {
            arrived.incrementAndGet();
            TestBackend.drain(ex);
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                return;
            }
            byte[] b = "slow".getBytes();
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
        });
    }

    private record Timed(int status, String body, String circuit, long millis) {}

    private CompletableFuture<Timed> async(URI uri) {
        long t0 = System.nanoTime();
        return client.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Timed(r.statusCode(), r.body(), r.headers().firstValue("X-Portcullis-Circuit")
                        .orElse(null), (System.nanoTime() - t0) / 1_000_000));
    }

    @Test
    void overMaxRequestsTheExcessGetsAFast503ThatSaysSoAndTheUpstreamServesAgainAfter() throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        try (TestBackend be = slow(1500, arrived);
             TestProxy p = proxy(be.address(), ", circuit_breaker: { max_requests: 2 }", "")) {
            List<CompletableFuture<Timed>> admitted = List.of(async(p.uri("web", "/a")), async(p.uri("web", "/b")));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> arrived.get() == 2);
            assertThat(breaker(p).requests()).isEqualTo(2);
            List<CompletableFuture<Timed>> refused = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                refused.add(async(p.uri("web", "/c" + i)));
            }
            for (CompletableFuture<Timed> f : refused) {
                Timed t = f.get(5, TimeUnit.SECONDS);
                assertThat(t.status()).isEqualTo(503);
                assertThat(t.body()).contains("circuit breaker open for upstream 'be': max_requests (2) reached");
                assertThat(t.circuit()).isEqualTo("open");
                assertThat(t.millis()).as("answered at once, not after the backend's 1.5 s").isLessThan(1000);
            }
            for (CompletableFuture<Timed> f : admitted) {
                Timed t = f.get(5, TimeUnit.SECONDS);
                assertThat(t.status()).isEqualTo(200);
                assertThat(t.millis()).isGreaterThanOrEqualTo(1400);
            }
            assertThat(arrived.get()).as("refused requests never reached the backend").isEqualTo(2);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).requests() == 0);
            Timed after = async(p.uri("web", "/after")).get(5, TimeUnit.SECONDS);
            assertThat(after.status()).isEqualTo(200);
            // the refusals are counted
            String metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("portcullis_upstream_circuit_open_total{upstream=\"be\"} 4.0");
        }
    }

    @Test
    void theRequestSlotIsGivenBackHoweverARequestEnds() throws Exception {
        int dead = ScriptedBackend.closedPort();
        AtomicInteger arrived = new AtomicInteger();
        try (TestBackend slowBe = slow(3000, arrived);
             ScriptedBackend reset = ScriptedBackend.start((s, i) -> {
                 Wire.readRequest(s.getInputStream());
                 s.close();
             });
             TestBackend busy = TestBackend.start("busy", ex -> {
                 TestBackend.drain(ex);
                 ex.sendResponseHeaders(503, -1);
             })) {
            // connect refused (502), a retried reset then a final one (502), retried 503s, per-try timeouts (504)
            String retry = "retry: { attempts: 2, per_try_timeout: 200ms, budget: 100%, backoff: { base: 1ms, max: 1ms } }";
            for (String endpoints : List.of("127.0.0.1:" + dead, reset.address(), busy.address(), slowBe.address())) {
                try (TestProxy p = proxy(endpoints, ", circuit_breaker: { max_requests: 1 }", retry)) {
                    for (int i = 0; i < 3; i++) {
                        RawExchange.Result r = RawExchange.send(p.port("web"),
                                "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", TIMEOUT);
                        assertThat(r.status()).as(endpoints + ": " + r.text()).isIn(502, 503, 504);
                        assertThat(r.body()).doesNotContain("circuit breaker");
                        assertThat(breaker(p).requests()).isZero();
                    }
                }
            }
            // the client goes away while its request waits for the backend
            try (TestProxy p = proxy(slowBe.address(), ", circuit_breaker: { max_requests: 1 }", "")) {
                RawExchange c = new RawExchange(p.port("web"));
                c.write("GET /gone HTTP/1.1\r\nHost: h\r\n\r\n");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).requests() == 1);
                c.close();
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).requests() == 0);
                // a local reply of the route timeout ends it too
            }
            try (TestProxy p = proxy(slowBe.address(), ", circuit_breaker: { max_requests: 1 }", "timeout: 300ms")) {
                RawExchange.Result r = RawExchange.send(p.port("web"),
                        "GET /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", TIMEOUT);
                assertThat(r.status()).isEqualTo(504);
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).requests() == 0);
            }
        }
    }

    @Test
    void maxConnectionsCountsOpenUpstreamConnectionsPooledOrNot() throws Exception {
        // each connection serves requests until it is asked to close one
        try (RawBackend be = RawBackend.serving((req, out) -> {
            String path = req.startLine().split(" ")[1];
            if (path.startsWith("/slow")) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return false;
                }
            }
            boolean close = path.startsWith("/close");
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + (close ? "Connection: close\r\n" : "")
                    + "\r\nok");
            return !close;
        });
             TestProxy p = proxy(be.address(), ", circuit_breaker: { max_connections: 1 }", "")) {
            CompletableFuture<Timed> first = async(p.uri("web", "/slow"));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> be.requests.size() == 1);
            Timed second = async(p.uri("web", "/other")).get(5, TimeUnit.SECONDS);
            assertThat(second.status()).isEqualTo(503);
            assertThat(second.body()).contains("circuit breaker open for upstream 'be': max_connections (1) reached");
            assertThat(second.millis()).isLessThan(900);
            assertThat(first.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            // the connection went back to the pool: still counted, and reused
            assertThat(breaker(p).connections()).isEqualTo(1);
            assertThat(async(p.uri("web", "/again")).get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(be.accepted.get()).isEqualTo(1);
            // once the upstream closes it, the count drops and a new one may open
            assertThat(async(p.uri("web", "/close")).get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).connections() == 0);
            assertThat(async(p.uri("web", "/new")).get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(be.accepted.get()).isEqualTo(2);
            assertThat(breaker(p).pending()).isZero();
        }
    }

    @Test
    void maxPendingLimitsConnectsInProgress() throws Exception {
        // A listening socket that never accepts, with its accept queue full: Linux drops further SYNs, so a
        // connect stays pending until connect_timeout.
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Socket f = new Socket();
                    try {
                        f.connect(full.getLocalSocketAddress(), 200);
                        fillers.add(f);
                    } catch (java.io.IOException e) {
                        f.close();
                        break;
                    }
                }
                Assumptions.assumeTrue(fillers.size() < 4, "this OS does not drop SYNs on a full accept queue");
                try (TestProxy p = proxy("127.0.0.1:" + full.getLocalPort(),
                        ", connect_timeout: 1500ms, circuit_breaker: { max_pending: 1 }", "")) {
                    CompletableFuture<Timed> first = async(p.uri("web", "/a"));
                    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).pending() == 1);
                    Timed second = async(p.uri("web", "/b")).get(5, TimeUnit.SECONDS);
                    assertThat(second.status()).isEqualTo(503);
                    assertThat(second.body()).contains("max_pending (1) reached");
                    assertThat(second.millis()).isLessThan(1000);
                    assertThat(first.get(5, TimeUnit.SECONDS).status()).isEqualTo(504);
                    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker(p).pending() == 0);
                    assertThat(breaker(p).connections()).isZero();
                    assertThat(breaker(p).requests()).isZero();
                }
            } finally {
                for (Socket f : fillers) {
                    f.close();
                }
            }
        }
    }

    @Test
    void maxConnectionsHoldsForABurstOfConnectsOnAnEmptyPool() throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        try (TestBackend be = slow(1000, arrived);
             TestProxy p = proxy(be.address(), ", circuit_breaker: { max_connections: 2 }", "")) {
            List<CompletableFuture<Timed>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                all.add(async(p.uri("web", "/burst" + i)));
            }
            int ok = 0;
            int refused = 0;
            for (CompletableFuture<Timed> f : all) {
                Timed t = f.get(10, TimeUnit.SECONDS);
                if (t.status() == 200) {
                    ok++;
                } else {
                    assertThat(t.status()).isEqualTo(503);
                    assertThat(t.body()).contains("max_connections (2) reached");
                    refused++;
                }
            }
            // Connects still in progress count: the burst opens two connections, not eight.
            assertThat(ok).isEqualTo(2);
            assertThat(refused).isEqualTo(6);
            assertThat(arrived.get()).isEqualTo(2);
            assertThat(breaker(p).pending()).isZero();
        }
    }

    @Test
    void withoutACircuitBreakerNothingIsRefused() throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        try (TestBackend be = slow(300, arrived); TestProxy p = proxy(be.address(), "", "")) {
            List<CompletableFuture<Timed>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(async(p.uri("web", "/n" + i)));
            }
            for (CompletableFuture<Timed> f : all) {
                assertThat(f.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(arrived.get()).isEqualTo(6);
        }
    }

    @Test
    void noAvailableEndpointAtAllIsA503ThatNamesTheUpstream() throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        try (TestBackend be = slow(0, arrived);
             TestProxy p = proxy(be.address(), ", circuit_breaker: { max_requests: 10 }", "")) {
            dev.portcullis.upstream.Upstream u = p.process().snapshot().upstreams().get("be");
            u.endpoints().forEach(e -> e.state().drained(true));
            u.refresh();
            RawExchange.Result r = RawExchange.send(p.port("web"),
                    "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", TIMEOUT);
            assertThat(r.status()).as(r.text()).isEqualTo(503);
            assertThat(r.body()).contains("no healthy endpoint in upstream 'be'");
            assertThat(r.text()).doesNotContain(String.valueOf(be.port()));
            assertThat(breaker(p).requests()).isZero();
            u.endpoints().forEach(e -> e.state().drained(false));
            u.refresh();
            assertThat(async(p.uri("web", "/back")).get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(arrived.get()).isEqualTo(1);
        }
    }
}
