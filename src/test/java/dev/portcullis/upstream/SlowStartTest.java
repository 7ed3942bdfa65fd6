package dev.portcullis.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.HostPort;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.observe.ProxyMetrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** slow_start: an endpoint that recovers or joins ramps its share up over the window instead of taking it at once. */
class SlowStartTest {
    private static final long SECOND = 1_000_000_000L;

    static UpstreamConfig withSlowStart(UpstreamConfig c, Duration d) {
        return new UpstreamConfig(c.name(), c.endpoints(), c.balance(), c.hashOn(), c.hashMethod(), c.discovery(),
                c.sticky(), c.healthCheck(), c.outlierDetection(), d, c.circuitBreaker(), c.panicThreshold(),
                c.connectTimeout(), c.keepalive());
    }

    private static Upstream upstream(Duration slowStart, UpstreamConfig.Balance balance) {
        return TestEndpoints.upstream(withSlowStart(TestEndpoints.config(balance, "a", "b"), slowStart), "a", "b");
    }

    /** b's share of {@code n} picks from the upstream's current set. */
    private static double share(Upstream u, Endpoint b, int n) {
        int hits = 0;
        for (int i = 0; i < n; i++) {
            if (new TestEndpoints.Tries(i * 0x9E3779B97F4A7C15L).next(u) == b) {
                hits++;
            }
        }
        return (double) hits / n;
    }

    private static void recover(Endpoint e) {
        e.state().checkResult(false, 1, 1);
        e.state().checkResult(true, 1, 1); // healthy again: ready since now
    }

    @Test
    void recoveredEndpointsWeightRampsFromTenPercentToFullOverTheWindow() {
        Upstream u = upstream(Duration.ofSeconds(10), UpstreamConfig.Balance.ROUND_ROBIN);
        Endpoint a = u.endpoints().get(0);
        Endpoint b = u.endpoints().get(1);
        recover(b);
        long t0 = b.state().readySinceNanos();
        assertThat(u.effectiveWeight(a, t0)).isEqualTo(100);
        assertThat(u.effectiveWeight(b, t0)).isEqualTo(10);
        assertThat(u.effectiveWeight(b, t0 + SECOND)).isEqualTo(10);
        assertThat(u.effectiveWeight(b, t0 + 5 * SECOND / 2)).isEqualTo(25);
        assertThat(u.effectiveWeight(b, t0 + 5 * SECOND)).isEqualTo(50);
        assertThat(u.effectiveWeight(b, t0 + 9 * SECOND)).isEqualTo(90);
        assertThat(u.effectiveWeight(b, t0 + 10 * SECOND)).isEqualTo(100);
        assertThat(u.rampingUp(t0 + 5 * SECOND)).isTrue();
        assertThat(u.rampingUp(t0 + 10 * SECOND)).isFalse();

        u.refresh();
        double early = share(u, b, 1100);
        assertThat(early).as("right after recovery: ~10/110 of the picks").isBetween(0.05, 0.15);
    }

    @Test
    void shareRisesAsTheRampProgresses() throws Exception {
        for (UpstreamConfig.Balance balance : List.of(UpstreamConfig.Balance.ROUND_ROBIN,
                UpstreamConfig.Balance.RANDOM, UpstreamConfig.Balance.CONSISTENT_HASH)) {
            Upstream u = upstream(Duration.ofMillis(600), balance);
            Endpoint b = u.endpoints().get(1);
            recover(b);
            u.refresh();
            double early = share(u, b, 2000);
            Thread.sleep(700); // past the window; the supervisor's tick would refresh here
            u.refresh();
            double later = share(u, b, 2000);
            assertThat(early).as(balance + " early").isLessThan(0.25);
            assertThat(later).as(balance + " after the window").isBetween(0.4, 0.6);
        }
    }

    @Test
    void withoutSlowStartARecoveredEndpointGetsItsFullShareAtOnce() {
        Upstream u = upstream(Duration.ZERO, UpstreamConfig.Balance.ROUND_ROBIN);
        Endpoint b = u.endpoints().get(1);
        recover(b);
        u.refresh();
        assertThat(share(u, b, 1000)).isEqualTo(0.5);
    }

    @Test
    void endpointAddedByAReloadRampsUpToo() {
        Upstream before = upstream(Duration.ofSeconds(10), UpstreamConfig.Balance.ROUND_ROBIN);
        ProxyMetrics metrics = new ProxyMetrics();
        Endpoint kept = EndpointFactory.endpoint("u", new HostPort("a", 80), InetSocketAddress.createUnresolved("a", 80),
                1, false, before, metrics);
        Endpoint added = EndpointFactory.endpoint("u", new HostPort("c", 80), InetSocketAddress.createUnresolved("c", 80),
                1, false, before, metrics);
        long now = System.nanoTime();
        assertThat(before.effectiveWeight(kept, now)).isEqualTo(100);
        assertThat(before.effectiveWeight(added, now)).isBetween(10, 11);
    }
}
