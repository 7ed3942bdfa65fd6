package dev.portcullis.upstream.health;

import static dev.portcullis.upstream.health.Proxies.endpoint;
import static dev.portcullis.upstream.health.Proxies.send;
import static dev.portcullis.upstream.health.Proxies.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Backups and the loss of an endpoint under load, with health checks and connect-failure failover together. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String CHECK = ", health_check: { http: { path: /healthz }, interval: 250ms, timeout: 250ms, "
            + "healthy_threshold: 2, unhealthy_threshold: 3 }";

    @Test
    void backupTakesTrafficOnlyWhileEveryPrimaryIsDown() throws Exception {
        try (HealthBackend p1 = HealthBackend.start("p1"); HealthBackend p2 = HealthBackend.start("p2");
             HealthBackend bk = HealthBackend.start("bk");
             TestProxy p = TestProxy.toOneUpstream(p1.address() + ", " + p2.address() + ", { address: "
                     + bk.address() + ", backup: true }", "", CHECK)) {
            send(p, 20);
            assertThat(bk.requests.get()).isZero();

            p1.healthStatus = 500;
            await().atMost(WAIT).until(() -> !endpoint(p, p1).state().healthy());
            send(p, 20);
            assertThat(bk.requests.get()).as("one primary left: no backup").isZero();
            assertThat(p2.requests.get()).isEqualTo(10 + 20);

            p2.healthStatus = 500;
            await().atMost(WAIT).until(() -> !endpoint(p, p2).state().healthy());
            assertThat(upstream(p, "be").set().active()).containsExactly(endpoint(p, bk));
            int p1Before = p1.requests.get();
            int p2Before = p2.requests.get();
            send(p, 20);
            assertThat(bk.requests.get()).isEqualTo(20);
            assertThat(p1.requests.get() + p2.requests.get()).isEqualTo(p1Before + p2Before);

            p1.healthStatus = 200;
            await().atMost(WAIT).until(() -> endpoint(p, p1).state().healthy());
            send(p, 20);
            assertThat(bk.requests.get()).as("back to the primary").isEqualTo(20);
            assertThat(p1.requests.get()).isEqualTo(p1Before + 20);
        }
    }

    @Test
    void losingOneOfThreeEndpointsUnderLoadLosesNoRequest() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             HealthBackend c = HealthBackend.start("c");
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address() + ", " + c.address(), "",
                     CHECK + ", connect_timeout: 2s")) {
            Endpoint ec = endpoint(p, c);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            URI uri = URI.create("http://127.0.0.1:" + p.port("web") + "/load");
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = Proxies.CLIENT.send(HttpRequest.newBuilder(uri)
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) {
                                ok.incrementAndGet();
                            } else {
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }, "load-" + t);
                th.start();
                clients.add(th);
            }
            Thread.sleep(1000);
            int beforeKill = ok.get();
            c.stopGracefully(); // stops accepting; its kept-alive connections close under the proxy
            int cAtKill = c.requests.get();
            await().atMost(WAIT).until(() -> !ec.state().healthy());
            long unhealthyAt = System.nanoTime();
            Thread.sleep(2000);
            stop.set(true);
            for (Thread th : clients) {
                th.join(15_000);
            }
            System.err.printf("FailoverTest: %d requests ok before the kill, %d in all, %d failed; c had %d; "
                            + "c unhealthy %d ms before the end%n", beforeKill, ok.get(), failures.size(), cAtKill,
                    (System.nanoTime() - unhealthyAt) / 1_000_000);
            assertThat(failures).as("no request lost").isEmpty();
            assertThat(beforeKill).isGreaterThan(50);
            assertThat(ok.get()).isGreaterThan(beforeKill + 100);
            assertThat(c.requests.get()).isEqualTo(cAtKill);
            assertThat(upstream(p, "be").set().active()).containsExactlyInAnyOrder(endpoint(p, a), endpoint(p, b));
        }
    }
}
