package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every {@code balance} through the real proxy to three real backends: how the requests spread, where hashed
 * clients go, and that the load-aware balancers keep traffic off a slow or failing backend.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BalancingTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private TestBackend a;
    private TestBackend b;
    private TestBackend c;

    @BeforeEach
    void backends() throws Exception {
        a = keep(TestBackend.start("a"));
        b = keep(TestBackend.start("b"));
        c = keep(TestBackend.start("c"));
    }

    @AfterEach
    void close() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T t) {
        closeLater.add(t);
        return t;
    }

    /** Backends a, b, c with weights 3:1:1 behind upstream "be" with these extra keys. */
    private TestProxy proxy(String extra) throws Exception {
        return keep(TestProxy.toOneUpstream("{ address: %s, weight: 3 }, %s, %s"
                .formatted(a.address(), b.address(), c.address()), "", extra));
    }

    private TestProxy equalProxy(String extra) throws Exception {
        return keep(TestProxy.toOneUpstream(a.address() + ", " + b.address() + ", " + c.address(), "", extra));
    }

    /** The name of the backend that answered (its body starts with it). */
    private String get(TestProxy p, String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(p.uri("web", pathAndQuery)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            req.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> r = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body().substring(0, r.body().indexOf(' '));
    }

    private Map<String, Integer> spread(TestProxy p, int requests) throws Exception {
        Map<String, Integer> n = new HashMap<>(Map.of("a", 0, "b", 0, "c", 0));
        for (int i = 0; i < requests; i++) {
            n.merge(get(p, "/r" + i), 1, Integer::sum);
        }
        return n;
    }

    // ---- weights ----

    @ParameterizedTest
    @ValueSource(strings = {"round_robin", "least_connections"})
    void weightsAreExactForRoundRobinAndIdleLeastConnections(String balance) throws Exception {
        TestProxy p = proxy(", balance: " + balance);
        // one request at a time: least_connections sees every backend idle and follows the weighted schedule
        Map<String, Integer> n = spread(p, 1000);
        assertThat(n.get("a")).as("%s: %s", balance, n).isBetween(570, 630);
        assertThat(n.get("b")).as("%s: %s", balance, n).isBetween(190, 210);
        assertThat(n.get("c")).as("%s: %s", balance, n).isBetween(190, 210);
    }

    /** The floor: 10,000 requests through the proxy from 4 clients at once, weights within ±5%. */
    @Test
    void tenThousandConcurrentRequestsKeepTheWeightsWithinFivePercent() throws Exception {
        TestProxy p = proxy(", balance: round_robin");
        Map<String, Integer> n = concurrently(p, 4, 10_000);
        assertThat(n.get("a")).as("%s", n).isBetween(5700, 6300);
        assertThat(n.get("b")).as("%s", n).isBetween(1900, 2100);
        assertThat(n.get("c")).as("%s", n).isBetween(1900, 2100);
    }

    /** 1,500 requests: ±5 points of share is 4 standard deviations for the 60% backend, 4.8 for the 20% ones. */
    @ParameterizedTest
    @ValueSource(strings = {"random", "power_of_two"})
    void weightsHoldForRandomizedBalancers(String balance) throws Exception {
        TestProxy p = proxy(", balance: " + balance);
        // random does not look at load, so 4 clients at once (quicker); power_of_two one at a time (equal load)
        Map<String, Integer> n = balance.equals("random") ? concurrently(p, 4, 1500) : spread(p, 1500);
        assertThat(n.get("a")).as("%s: %s", balance, n).isBetween(825, 975);
        assertThat(n.get("b")).as("%s: %s", balance, n).isBetween(225, 375);
        assertThat(n.get("c")).as("%s: %s", balance, n).isBetween(225, 375);
    }

    // ---- consistent hashing ----

    @ParameterizedTest
    @ValueSource(strings = {"maglev", "ring"})
    void aHeaderPinsEachUserToOneBackendAndUsersSpread(String method) throws Exception {
        TestProxy p = equalProxy(", balance: consistent_hash, hash_on: header:X-User, hash_method: " + method);
        Map<String, String> home = new HashMap<>();
        Map<String, Integer> users = new HashMap<>(Map.of("a", 0, "b", 0, "c", 0));
        for (int u = 0; u < 90; u++) {
            String backend = get(p, "/u", "X-User", "user-" + u);
            home.put("user-" + u, backend);
            users.merge(backend, 1, Integer::sum);
        }
        for (int round = 0; round < 2; round++) {
            for (int u = 0; u < 90; u++) {
                assertThat(get(p, "/again" + round, "X-User", "user-" + u)).as("user-%d", u).isEqualTo(home.get("user-" + u));
            }
        }
        // 30 users each expected; 12 is 4 standard deviations below (and the hash is fixed, so no flake)
        assertThat(users.values()).as("users per backend %s", users).allSatisfy(v -> assertThat(v).isGreaterThan(12));
    }

    @Test
    void cookieQueryAndUriEachPinWhatTheyHash() throws Exception {
        TestProxy cookie = equalProxy(", balance: consistent_hash, hash_on: cookie:sid, hash_method: ring");
        TestProxy query = equalProxy(", balance: consistent_hash, hash_on: query:user");
        TestProxy uri = equalProxy(", balance: consistent_hash, hash_on: uri");
        java.util.Set<String> cookieHomes = new java.util.HashSet<>();
        java.util.Set<String> queryHomes = new java.util.HashSet<>();
        java.util.Set<String> uriHomes = new java.util.HashSet<>();
        for (int u = 0; u < 40; u++) {
            // other cookies and parameters around the one hashed change nothing
            String byCookie = get(cookie, "/x", "Cookie", "theme=dark; sid=s" + u);
            assertThat(get(cookie, "/y?z=" + u, "Cookie", "sid=s" + u + "; lang=en")).isEqualTo(byCookie);
            cookieHomes.add(byCookie);
            String byQuery = get(query, "/p?user=" + u + "&t=1");
            assertThat(get(query, "/q?t=2&user=" + u)).isEqualTo(byQuery);
            queryHomes.add(byQuery);
            String byUri = get(uri, "/doc/" + u + "?v=1");
            assertThat(get(uri, "/doc/" + u + "?v=1")).isEqualTo(byUri);
            uriHomes.add(byUri);
        }
        assertThat(cookieHomes).hasSize(3);
        assertThat(queryHomes).hasSize(3);
        assertThat(uriHomes).hasSize(3);
    }

    @Test
    void sourceIpPinsEachClientAddressAndAMissingHeaderFallsBackToIt() throws Exception {
        TestProxy bySource = equalProxy(", balance: consistent_hash, hash_on: source_ip");
        TestProxy byHeader = equalProxy(", balance: consistent_hash, hash_on: header:X-User");
        java.util.Set<String> homes = new java.util.HashSet<>();
        java.util.Set<String> fallbackHomes = new java.util.HashSet<>();
        for (int host = 2; host <= 41; host++) {
            String from = "127.0.0." + host;
            String home = rawGet(bySource, from, "/s");
            homes.add(home);
            String fallback = rawGet(byHeader, from, "/h");
            fallbackHomes.add(fallback);
            for (int again = 0; again < 2; again++) {
                assertThat(rawGet(bySource, from, "/s" + again)).as("client %s", from).isEqualTo(home);
                assertThat(rawGet(byHeader, from, "/h" + again)).as("client %s without X-User", from).isEqualTo(fallback);
            }
        }
        assertThat(homes).hasSize(3);
        assertThat(fallbackHomes).hasSize(3);
    }

    /** One GET on a new connection from {@code fromIp} (any 127.x address is local); the backend that answered. */
    private static String rawGet(TestProxy p, String fromIp, String path) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(fromIp, 0));
            s.connect(new InetSocketAddress("127.0.0.1", p.port("web")), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            in.transferTo(out);
            String text = out.toString(StandardCharsets.UTF_8);
            assertThat(text).startsWith("HTTP/1.1 200");
            String body = text.substring(text.indexOf("\r\n\r\n") + 4);
            return body.substring(0, body.indexOf(' '));
        }
    }

    // ---- load aware ----

    /**
     * Backend b sleeps 200 ms per request; 8 client threads send 400 requests. Round robin would give it a third;
     * least_connections and peak_ewma see its requests pile up (or its latency) and send it far less.
     */
    @ParameterizedTest
    @ValueSource(strings = {"least_connections", "peak_ewma", "power_of_two"})
    void aSlowBackendGetsFarLessThanAThird(String balance) throws Exception {
        TestBackend slow = keep(TestBackend.start("slow", ex -> {
            TestBackend.drain(ex);
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] out = "slow".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        }));
        TestProxy p = keep(TestProxy.toOneUpstream(a.address() + ", " + slow.address() + ", " + c.address(), "",
                ", balance: " + balance));
        int total = 400;
        Map<String, Integer> n = concurrently(p, 8, total);
        assertThat(n.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
        // a third would be 133; measured: a handful
        assertThat(n.getOrDefault("slow", 0)).as("%s: %s", balance, n).isLessThan(total / 6);
    }

    /**
     * One request at a time, so nothing is ever in flight when the proxy chooses: only the measured response time
     * can tell the slow backend apart, and peak_ewma sends it (almost) nothing after its first answer.
     */
    @Test
    void peakEwmaLearnsResponseTimesWithoutConcurrency() throws Exception {
        AtomicInteger slowSeen = new AtomicInteger();
        TestBackend slow = keep(TestBackend.start("slow", ex -> {
            slowSeen.incrementAndGet();
            TestBackend.drain(ex);
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] out = "slow GET".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        }));
        TestProxy p = keep(TestProxy.toOneUpstream(a.address() + ", " + slow.address() + ", " + c.address(), "",
                ", balance: peak_ewma"));
        for (int i = 0; i < 150; i++) {
            get(p, "/seq" + i);
        }
        // every draw of two holds a fast backend, whose estimate beats 300 ms (even a cold first answer's peak,
        // which the estimate keeps for seconds: it decays with a 10 s time constant)
        assertThat(slowSeen.get()).isLessThanOrEqualTo(3);
    }

    private Map<String, Integer> concurrently(TestProxy p, int threads, int total) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            AtomicInteger left = new AtomicInteger(total);
            Map<String, Integer> n = new java.util.concurrent.ConcurrentHashMap<>();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("web", "/load"))
                                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(r.statusCode()).isEqualTo(200);
                        String body = r.body();
                        n.merge(body.contains(" ") ? body.substring(0, body.indexOf(' ')) : body, 1, Integer::sum);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(50, TimeUnit.SECONDS);
            }
            return n;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void peakEwmaKeepsTrafficOffABackendThatFailsFast() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        TestBackend failing = keep(TestBackend.start("failing", ex -> {
            seen.incrementAndGet();
            TestBackend.drain(ex);
            byte[] out = "failing 503".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(503, out.length);
            ex.getResponseBody().write(out);
        }));
        TestProxy p = keep(TestProxy.toOneUpstream(a.address() + ", " + failing.address() + ", " + c.address(), "",
                ", balance: peak_ewma"));
        int failures = 0;
        for (int i = 0; i < 300; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("web", "/f" + i)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 503) {
                failures++;
            }
        }
        // its 503s come back in well under a millisecond, yet each counts as a 1 s answer: it is hardly ever chosen
        assertThat(failures).isLessThan(15);
        assertThat(seen.get()).isEqualTo(failures);
    }

    // ---- bad config ----

    @Test
    void aBadBalanceIsRefusedOnReloadAndTheProxyKeepsServing() throws Exception {
        TestProxy p = equalProxy(", balance: round_robin");
        String good = get(p, "/before");
        assertThat(good).isIn("a", "b", "c");
        String base = """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s]%s }
                """;
        String eps = a.address() + ", " + b.address() + ", " + c.address();
        ReloadOutcome typo = p.reload(base.formatted(eps, ", balance: least_connection"));
        assertThat(typo).isInstanceOf(ReloadOutcome.Refused.class);
        assertThat(((ReloadOutcome.Refused) typo).errors()).singleElement().asString()
                .contains("upstreams.be.balance").contains("unknown balance 'least_connection'")
                .contains("least_connections");
        ReloadOutcome hashWithoutHashing = p.reload(base.formatted(eps, ", balance: random, hash_on: uri"));
        assertThat(((ReloadOutcome.Refused) hashWithoutHashing).errors()).singleElement().asString()
                .contains("hash_on").contains("only with balance: consistent_hash");
        ReloadOutcome badHashOn = p.reload(base.formatted(eps, ", balance: consistent_hash, hash_on: 'header:'"));
        assertThat(((ReloadOutcome.Refused) badHashOn).errors()).singleElement().asString()
                .contains("needs a name");
        // the old config still serves, round robin as before
        assertThat(spread(p, 30)).containsEntry("a", 10).containsEntry("b", 10).containsEntry("c", 10);
    }

}
