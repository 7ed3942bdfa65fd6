package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Passive health fed by real request outcomes: {@code outlier_detection} ejects an endpoint after failures in a row
 * (5xx, connect errors, resets) for ejection_time × the times it was ejected, within max_ejected; peak EWMA learns
 * latency and failures.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OutlierDetectionTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static TestProxy proxy(String endpoints, String upstreamExtra) throws Exception {
        return TestProxy.toOneUpstream(endpoints, "workers: 1\n", ", connect_timeout: 2s" + upstreamExtra);
    }

    /** Answers {@code status} after {@code delayMillis}, recording when each request arrived. */
    private static TestBackend backend(String name, int status, long delayMillis, ConcurrentLinkedQueue<Long> hits)
            throws Exception {
        return TestBackend.start(name, ex -> {
            hits.add(System.nanoTime());
            TestBackend.drain(ex);
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
            byte[] b = name.getBytes();
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
        });
    }

    private static Endpoint endpoint(TestProxy p, String address) {
        Upstream u = p.process().snapshot().upstreams().get("be");
        return u.endpoints().stream().filter(e -> e.label().equals(address)).findFirst().orElseThrow();
    }

    private static boolean ejected(Endpoint e) {
        return e.state().ejected(System.nanoTime());
    }

    private int get(TestProxy p, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Sends requests one after another, {@code pauseMillis} apart, until stopped. */
    private Thread steadyLoad(TestProxy p, AtomicBoolean stop, List<Integer> statuses, long pauseMillis) {
        Thread t = new Thread(() -> {
            while (!stop.get()) {
                try {
                    statuses.add(get(p, "/load"));
                    Thread.sleep(pauseMillis);
                } catch (Exception e) {
                    return;
                }
            }
        }, "steady-load");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The pauses of more than 500 ms between hits, in ms. */
    private static List<Long> gaps(ConcurrentLinkedQueue<Long> hits) {
        List<Long> out = new ArrayList<>();
        Long prev = null;
        for (Long t : hits) {
            if (prev != null && t - prev > 500_000_000L) {
                out.add((t - prev) / 1_000_000);
            }
            prev = t;
        }
        return out;
    }

    @Test
    void aFailingEndpointIsEjectedGetsNoTrafficComesBackAndIsEjectedLongerTheSecondTime() throws Exception {
        ConcurrentLinkedQueue<Long> goodHits = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> badHits = new ConcurrentLinkedQueue<>();
        List<Integer> statuses = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        try (TestBackend good = backend("good", 200, 0, goodHits);
             TestBackend bad = backend("bad", 500, 0, badHits);
             TestProxy p = proxy(good.address() + ", " + bad.address(),
                     // 2 s (then 4 s): a gap of seconds stays readable above a loaded machine's scheduling noise
                     ", outlier_detection: { consecutive_failures: 3, ejection_time: 2s, max_ejected: 50% }")) {
            Endpoint badEndpoint = endpoint(p, bad.address());
            Thread load = steadyLoad(p, stop, statuses, 10);
            try {
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ejected(badEndpoint));
                assertThat(badHits).hasSize(3);
                // no traffic while ejected
                int goodBefore = goodHits.size();
                Thread.sleep(600);
                assertThat(badHits).as("ejected: no request").hasSize(3);
                assertThat(goodHits.size()).as("the load goes on to the good one").isGreaterThan(goodBefore + 5);
                // back after the ejection time, then ejected again after 3 more failures, for twice as long
                Awaitility.await().atMost(Duration.ofSeconds(8)).until(() -> badHits.size() >= 4);
                Awaitility.await().atMost(Duration.ofSeconds(8)).until(() -> badEndpoint.state().ejections() == 2);
                Awaitility.await().atMost(Duration.ofSeconds(12)).until(() -> badHits.size() >= 7);
            } finally {
                stop.set(true);
                load.join(5000);
            }
            List<Long> gaps = gaps(badHits);
            assertThat(gaps).as("pauses of the bad endpoint's traffic, ms").hasSize(2);
            // 2 s, then 4 s (the supervisor returns it within its 200 ms tick); loose bounds for a busy machine
            assertThat(gaps.get(0)).isBetween(1900L, 3500L);
            assertThat(gaps.get(1)).isBetween(3900L, 6000L);
            assertThat(gaps.get(1)).isGreaterThan(gaps.get(0) + 1000);
            assertThat(statuses).containsOnly(200, 500);
        }
    }

    @Test
    void maxEjectedKeepsAtLeastOneEndpointIn() throws Exception {
        ConcurrentLinkedQueue<Long> aHits = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> bHits = new ConcurrentLinkedQueue<>();
        try (TestBackend a = backend("a", 500, 0, aHits);
             TestBackend b = backend("b", 503, 0, bHits);
             TestProxy p = proxy(a.address() + ", " + b.address(),
                     ", outlier_detection: { consecutive_failures: 2, ejection_time: 10s, max_ejected: 50% }")) {
            Endpoint ea = endpoint(p, a.address());
            Endpoint eb = endpoint(p, b.address());
            for (int i = 0; i < 40; i++) {
                // the upstream's own 5xx is relayed; never a proxy 503 for want of an endpoint
                assertThat(get(p, "/x" + i)).isIn(500, 503);
                assertThat(ejected(ea) && ejected(eb)).as("both ejected").isFalse();
            }
            assertThat(ejected(ea) ^ ejected(eb)).as("exactly one ejected").isTrue();
            assertThat(aHits.size() + bHits.size()).isEqualTo(40);
            // the one left in takes everything while the other is out
            int before = ejected(ea) ? bHits.size() : aHits.size();
            for (int i = 0; i < 5; i++) {
                get(p, "/y" + i);
            }
            assertThat(ejected(ea) ? bHits.size() : aHits.size()).isEqualTo(before + 5);
        }
    }

    @Test
    void aSuccessBetweenFailuresResetsTheCount() throws Exception {
        AtomicInteger n = new AtomicInteger();
        ConcurrentLinkedQueue<Long> goodHits = new ConcurrentLinkedQueue<>();
        try (TestBackend flaky = TestBackend.start("flaky", ex -> {
            TestBackend.drain(ex);
            ex.sendResponseHeaders(n.incrementAndGet() % 2 == 0 ? 200 : 500, -1);
        });
             TestBackend good = backend("good", 200, 0, goodHits);
             TestProxy p = proxy(flaky.address() + ", " + good.address(),
                     ", outlier_detection: { consecutive_failures: 2, ejection_time: 10s, max_ejected: 50% }")) {
            for (int i = 0; i < 30; i++) {
                get(p, "/f" + i);
            }
            assertThat(n.get()).isGreaterThanOrEqualTo(10);
            assertThat(ejected(endpoint(p, flaky.address()))).isFalse();
        }
    }

    @Test
    void connectFailuresAndResetsCountAsFailures() throws Exception {
        int dead = ScriptedBackend.closedPort();
        ConcurrentLinkedQueue<Long> goodHits = new ConcurrentLinkedQueue<>();
        try (ScriptedBackend reset = ScriptedBackend.start((s, i) -> {
            Wire.readRequest(s.getInputStream());
            s.setSoLinger(true, 0);
            s.close();
        });
             TestBackend good = backend("good", 200, 0, goodHits);
             TestProxy p = proxy("127.0.0.1:" + dead + ", " + reset.address() + ", " + good.address(),
                     ", outlier_detection: { consecutive_failures: 2, ejection_time: 10s, max_ejected: 70% }"
                             + ", panic_threshold: 0%")) {
            // (no panic mode: with 1 of 3 healthy it would send traffic to all three again)
            Endpoint deadEndpoint = endpoint(p, "127.0.0.1:" + dead);
            Endpoint resetEndpoint = endpoint(p, reset.address());
            for (int i = 0; i < 12 && !(ejected(deadEndpoint) && ejected(resetEndpoint)); i++) {
                get(p, "/c" + i);
            }
            assertThat(ejected(deadEndpoint)).as("connect refused twice in a row").isTrue();
            assertThat(ejected(resetEndpoint)).as("reset twice in a row").isTrue();
            // only the good one is tried now: no connection attempt to the reset one
            int resets = reset.connections.get();
            for (int i = 0; i < 6; i++) {
                assertThat(get(p, "/ok" + i)).isEqualTo(200);
            }
            assertThat(reset.connections.get()).isEqualTo(resets);
        }
    }

    @Test
    void withoutOutlierDetectionNothingIsEjected() throws Exception {
        ConcurrentLinkedQueue<Long> badHits = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> goodHits = new ConcurrentLinkedQueue<>();
        try (TestBackend bad = backend("bad", 500, 0, badHits);
             TestBackend good = backend("good", 200, 0, goodHits);
             TestProxy p = proxy(bad.address() + ", " + good.address(), "")) {
            for (int i = 0; i < 20; i++) {
                get(p, "/n" + i);
            }
            assertThat(badHits).hasSize(10);
            assertThat(ejected(endpoint(p, bad.address()))).isFalse();
        }
    }

    @Test
    void peakEwmaLearnsLatencyAndPenalisesFailures() throws Exception {
        ConcurrentLinkedQueue<Long> fastHits = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> slowHits = new ConcurrentLinkedQueue<>();
        try (TestBackend fast = backend("fast", 200, 0, fastHits);
             TestBackend slow = backend("slow", 200, 150, slowHits);
             TestProxy p = proxy(fast.address() + ", " + slow.address(), ", balance: peak_ewma")) {
            for (int i = 0; i < 20; i++) {
                assertThat(get(p, "/l" + i)).isEqualTo(200);
            }
            assertThat(slowHits.size()).as("the 150 ms endpoint, of 20 requests").isLessThanOrEqualTo(4);
        }
        ConcurrentLinkedQueue<Long> failingHits = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> okHits = new ConcurrentLinkedQueue<>();
        try (TestBackend failing = backend("failing", 500, 0, failingHits);
             TestBackend ok = backend("ok", 200, 20, okHits);
             TestProxy p = proxy(failing.address() + ", " + ok.address(), ", balance: peak_ewma")) {
            for (int i = 0; i < 20; i++) {
                get(p, "/f" + i);
            }
            // failing fast is no advantage: a 5xx counts as a 1 s answer
            assertThat(failingHits.size()).as("the fast-failing endpoint, of 20 requests").isLessThanOrEqualTo(4);
        }
    }

    @Test
    void anEndpointThatLetsTheRouteTimeoutExpireCountsAFailure() throws Exception {
        ConcurrentLinkedQueue<Long> goodHits = new ConcurrentLinkedQueue<>();
        try (ScriptedBackend hang = ScriptedBackend.start((s, i) -> {
            Wire.readRequest(s.getInputStream());
            Thread.sleep(20_000);
        });
             TestBackend good = backend("good", 200, 0, goodHits);
             TestProxy p = TestProxy.start(TestProxy.oneRouteYaml("workers: 1\n",
                     hang.address() + ", " + good.address(),
                     ", outlier_detection: { consecutive_failures: 2, ejection_time: 10s, max_ejected: 50% }",
                     "timeout: 300ms"))) {
            Endpoint hanging = endpoint(p, hang.address());
            int timeouts = 0;
            for (int i = 0; i < 10 && !ejected(hanging); i++) {
                if (get(p, "/h" + i) == 504) {
                    timeouts++;
                }
            }
            assertThat(ejected(hanging)).isTrue();
            assertThat(timeouts).isEqualTo(2);
            for (int i = 0; i < 4; i++) {
                assertThat(get(p, "/ok" + i)).isEqualTo(200);
            }
        }
    }
}
