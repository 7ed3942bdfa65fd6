package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Route {@code split}: weighted choice of upstream per request (canaries). */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SplitTest {
    @TempDir
    Path dir;

    private static String yaml(String accessLog, RawBackend a, int wa, RawBackend b, int wb) {
        return """
                access_log: %s
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: canary
                        match: { path_prefix: / }
                        split:
                          - { upstream: stable, weight: %d }
                          - { upstream: canary, weight: %d }
                upstreams:
                  stable: { endpoints: [%s] }
                  canary: { endpoints: [%s] }
                """.formatted(accessLog, wa, wb, a.address(), b.address());
    }

    /**
     * A backend that answers its name in one write (the JDK HttpServer writes head and body apart, and Nagle
     * plus delayed ACKs then cost 40 ms a request).
     */
    private static RawBackend named(String name) throws Exception {
        byte[] reply = ("HTTP/1.1 200 OK\r\nContent-Length: " + name.length() + "\r\n\r\n" + name)
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        return RawBackend.serving((req, out) -> {
            out.write(reply);
            return true;
        });
    }

    /** Sends {@code n} GETs from 4 threads; returns how many each backend answered. */
    private static Map<String, Integer> send(URI uri, int n) throws Exception {
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger left = new AtomicInteger(n);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            Thread th = new Thread(() -> {
                while (left.getAndDecrement() > 0) {
                    try {
                        HttpResponse<String> r = c.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                                .build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                        counts.merge(r.body().split(" ")[0], 1, Integer::sum);
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        assertThat(failures).isEmpty();
        return counts;
    }

    @Test
    void weightsHoldAndTheAccessLogNamesTheUpstreamUsed() throws Exception {
        Path log = dir.resolve("access.json");
        try (RawBackend a = named("stable"); RawBackend b = named("canary");
             TestProxy p = TestProxy.start(yaml("{ path: " + log + ", format: json }", a, 90, b, 10))) {
            int n = 2000;
            Map<String, Integer> counts = send(p.uri("web", "/x"), n);
            int stable = counts.getOrDefault("stable", 0);
            int canary = counts.getOrDefault("canary", 0);
            assertThat(stable + canary).isEqualTo(n);
            System.out.printf("split 90/10 over %d requests: stable %d, canary %d (%.2f%%)%n", n, stable, canary,
                    canary * 100.0 / n);
            // 90/10 within 3 percentage points (the binomial standard deviation here is 0.67 points).
            assertThat(canary * 100.0 / n).as("canary share, %d of %d", canary, n).isBetween(7.0, 13.0);
            assertThat(a.requests).hasSize(stable);
            assertThat(b.requests).hasSize(canary);

            await().atMost(Duration.ofSeconds(10)).until(() -> ProxyAccessLogTest.lines(log).size() == n);
            Map<String, Integer> logged = new ConcurrentHashMap<>();
            for (String line : ProxyAccessLogTest.lines(log)) {
                Map<String, String> j = ProxyAccessLogTest.parse(line);
                assertThat(j.get("route")).isEqualTo("canary");
                logged.merge(j.get("upstream"), 1, Integer::sum);
            }
            assertThat(logged).isEqualTo(Map.of("stable", stable, "canary", canary));

            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            p.process().metrics().writeText(out);
            String metrics = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(metrics)
                    .contains("portcullis_requests_total{listener=\"web\",route=\"canary\",status=\"2xx\",upstream=\"stable\"} "
                            + stable + ".0")
                    .contains("portcullis_requests_total{listener=\"web\",route=\"canary\",status=\"2xx\",upstream=\"canary\"} "
                            + canary + ".0")
                    .as("no series for the split as a whole")
                    .doesNotContain("upstream=\"stable|canary\"", "upstream=\"canary|stable\"");
        }
    }

    @Test
    void choiceFollowsTheWeightsClosely() {
        dev.portcullis.upstream.Upstream a = dev.portcullis.upstream.TestEndpoints.upstream(
                dev.portcullis.config.UpstreamConfig.Balance.ROUND_ROBIN, "a");
        dev.portcullis.upstream.Upstream b = dev.portcullis.upstream.TestEndpoints.upstream(
                dev.portcullis.config.UpstreamConfig.Balance.ROUND_ROBIN, "b");
        RouteTarget.Split split = RouteTarget.Split.of(new dev.portcullis.config.RouteAction.Split(List.of(
                new dev.portcullis.config.RouteAction.Split.Branch("a", 0),
                new dev.portcullis.config.RouteAction.Split.Branch("b", 9),
                new dev.portcullis.config.RouteAction.Split.Branch("a", 1))), Map.of("a", a, "b", b), name -> null);
        int n = 100_000;
        int toA = 0;
        for (int i = 0; i < n; i++) {
            if (split.choose() == a) {
                toA++;
            }
        }
        // 10% within half a point (the standard deviation is 0.095 points)
        assertThat(toA * 100.0 / n).isBetween(9.5, 10.5);
    }

    @Test
    void weightZeroSendsNothing() throws Exception {
        try (RawBackend a = named("stable"); RawBackend b = named("canary");
             TestProxy p = TestProxy.start(yaml("{ path: off }", a, 1, b, 0))) {
            Map<String, Integer> counts = send(p.uri("web", "/z"), 300);
            assertThat(counts).isEqualTo(Map.of("stable", 300));
            assertThat(b.requests).isEmpty();
            // and the other way round, after a reload
            p.reload(yaml("{ path: off }", a, 0, b, 5));
            assertThat(send(p.uri("web", "/z"), 300)).isEqualTo(Map.of("canary", 300));
            assertThat(a.requests).hasSize(300);
        }
    }
}
