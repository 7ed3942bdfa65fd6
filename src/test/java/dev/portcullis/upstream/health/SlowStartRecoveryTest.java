package dev.portcullis.upstream.health;

import static dev.portcullis.upstream.health.Proxies.endpoint;
import static dev.portcullis.upstream.health.Proxies.send;
import static dev.portcullis.upstream.health.Proxies.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An endpoint that passes its checks again ramps up under slow_start, refreshed by the supervisor's tick. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SlowStartRecoveryTest {

    private static int weightOf(TestProxy p, Endpoint e) {
        EndpointSet s = upstream(p, "be").set();
        for (int i = 0; i < s.active().length; i++) {
            if (s.active()[i] == e) {
                return s.weights()[i];
            }
        }
        return -1;
    }

    @Test
    void recoveredEndpointRampsUpInsteadOfTakingItsFullShareAtOnce() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address(), "",
                     ", slow_start: 3s, health_check: { http: { path: /healthz }, interval: 300ms, timeout: 300ms, "
                             + "healthy_threshold: 1, unhealthy_threshold: 2 }")) {
            Endpoint eb = endpoint(p, b);
            b.healthStatus = 500;
            await().atMost(Duration.ofSeconds(10)).until(() -> !eb.state().healthy());
            b.healthStatus = 200;
            await().atMost(Duration.ofSeconds(10)).until(() -> eb.state().healthy() && weightOf(p, eb) > 0);

            int b0 = b.requests.get();
            send(p, 40);
            int early = b.requests.get() - b0;
            List<Integer> weights = new ArrayList<>();
            long end = eb.state().readySinceNanos() + TimeUnit.MILLISECONDS.toNanos(3400);
            while (System.nanoTime() < end) {
                weights.add(weightOf(p, eb));
                Thread.sleep(250);
            }
            weights.add(weightOf(p, eb));
            int b1 = b.requests.get();
            send(p, 40);
            int later = b.requests.get() - b1;
            System.err.printf("SlowStartRecoveryTest: b got %d of 40 right after recovery, %d of 40 after the window; "
                    + "its weight over the window: %s%n", early, later, weights);
            assertThat(early).as("a small share first").isLessThan(14);
            assertThat(later).as("its full share after the window").isBetween(18, 22);
            assertThat(weights.get(0)).isLessThan(60);
            assertThat(weights.get(weights.size() - 1)).isEqualTo(100);
            for (int i = 1; i < weights.size(); i++) {
                assertThat(weights.get(i)).as("weights %s never fall", weights).isGreaterThanOrEqualTo(weights.get(i - 1));
            }
            assertThat(weights.stream().filter(w -> w > weights.get(0) && w < 100).count())
                    .as("steps in between: %s", weights).isGreaterThanOrEqualTo(3);
        }
    }
}
