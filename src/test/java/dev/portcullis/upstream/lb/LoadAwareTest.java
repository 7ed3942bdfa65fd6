package dev.portcullis.upstream.lb;

import static dev.portcullis.upstream.lb.LbFixtures.count;
import static dev.portcullis.upstream.lb.LbFixtures.endpoint;
import static dev.portcullis.upstream.lb.LbFixtures.inFlight;
import static dev.portcullis.upstream.lb.LbFixtures.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** least_connections, power_of_two and peak_ewma look at requests in flight and (peak_ewma) response times. */
class LoadAwareTest {
    private static final long MS = 1_000_000L;

    // ---- least_connections ----

    @Test
    void leastConnectionsPicksTheFewestInFlight() {
        Upstream u = upstream("least_connections", "a", "b", "c");
        inFlight(endpoint(u, "a"), 3);
        inFlight(endpoint(u, "b"), 1);
        inFlight(endpoint(u, "c"), 2);
        assertThat(count(u, 300)).containsEntry("b", 300);
    }

    @Test
    void leastConnectionsComparesInFlightRelativeToWeight() {
        Upstream u = upstream("least_connections", "a:3", "b");
        inFlight(endpoint(u, "a"), 2); // 2/3 per unit of weight
        inFlight(endpoint(u, "b"), 1); // 1/1
        assertThat(count(u, 100)).containsEntry("a", 100);
        inFlight(endpoint(u, "a"), 4); // 4/3 > 1/1
        assertThat(count(u, 100)).containsEntry("b", 100);
    }

    @Test
    void leastConnectionsBreaksTiesRoundRobin() {
        Upstream u = upstream("least_connections", "a", "b", "c", "d");
        for (String h : new String[] {"a", "b", "c"}) {
            inFlight(endpoint(u, h), 1);
        }
        inFlight(endpoint(u, "d"), 5);
        StringBuilder seq = new StringBuilder();
        Tries t = new Tries();
        for (int i = 0; i < 12; i++) {
            seq.append(u.choose(t).address().host());
        }
        // every tied endpoint in turn, not the first of them every time
        assertThat(count(u, 1200)).containsEntry("a", 400).containsEntry("b", 400).containsEntry("c", 400);
        assertThat(seq.toString()).contains("a").contains("b").contains("c").doesNotContain("aa");
    }

    @Test
    void leastConnectionsSharesIdleEndpointsByWeight() {
        Upstream u = upstream("least_connections", "a", "b:3", "c", "d", "e");
        inFlight(endpoint(u, "a"), 1);
        inFlight(endpoint(u, "c"), 2);
        inFlight(endpoint(u, "e"), 1);
        // b and d are idle: they share the requests 3:1, as their weights say, whatever the others carry
        assertThat(count(u, 1400)).containsEntry("b", 1050).containsEntry("d", 350);
    }

    @Test
    void leastConnectionsFollowsLoadAsItChanges() {
        Upstream u = upstream("least_connections", "a", "b", "c");
        Tries t = new Tries();
        // requests that stay in flight spread one each before any endpoint gets a second
        for (int round = 1; round <= 4; round++) {
            for (int i = 0; i < 3; i++) {
                u.choose(t).requestStarted();
            }
            for (Endpoint e : u.endpoints()) {
                assertThat(e.state().inFlight()).isEqualTo(round);
            }
        }
    }

    // ---- power_of_two ----

    @Test
    void powerOfTwoPrefersTheLessLoaded() {
        Upstream u = upstream("power_of_two", "a", "b", "c");
        inFlight(endpoint(u, "a"), 10);
        Map<String, Integer> got = count(u, 10_000);
        // every draw of two distinct endpoints holds b or c, which beats a
        assertThat(got.get("a")).isZero();
        assertThat(got.get("b")).isBetween(4500, 5500);
        Upstream two = upstream("power_of_two", "a", "b");
        inFlight(endpoint(two, "a"), 1);
        assertThat(count(two, 1000)).containsEntry("b", 1000);
    }

    @Test
    void powerOfTwoComparesRelativeToWeight() {
        Upstream u = upstream("power_of_two", "a:4", "b");
        inFlight(endpoint(u, "a"), 4); // 1 per unit of weight
        inFlight(endpoint(u, "b"), 2); // 2 per unit
        Map<String, Integer> got = count(u, 10_000);
        // b wins only when drawn twice (1/25 of draws); a otherwise
        assertThat(got.get("b")).isBetween(200, 700);
    }

    // ---- peak_ewma ----

    @Test
    void peakEwmaSendsLessToASlowEndpoint() {
        Upstream u = upstream("peak_ewma", "a", "b", "c");
        u.observe(endpoint(u, "a"), 200 * MS, false);
        u.observe(endpoint(u, "b"), MS, false);
        u.observe(endpoint(u, "c"), 2 * MS, false);
        Map<String, Integer> got = count(u, 10_000);
        assertThat(got.get("a")).isZero();
        // b is cheaper than c, so it wins each pair they share
        assertThat(got.get("b")).isBetween(6000, 7300);
    }

    @Test
    void peakEwmaWeighsRequestsInFlight() {
        Upstream u = upstream("peak_ewma", "a", "b");
        u.observe(endpoint(u, "a"), MS, false);
        u.observe(endpoint(u, "b"), 3 * MS, false);
        assertThat(count(u, 100)).containsEntry("a", 100);
        inFlight(endpoint(u, "a"), 3); // 1 ms × 4 > 3 ms × 1
        assertThat(count(u, 100)).containsEntry("b", 100);
    }

    @Test
    void peakEwmaJumpsToAPeakAndForgetsItOverTime() {
        Endpoint e = upstream("peak_ewma", "a").endpoints().get(0);
        long t0 = System.nanoTime();
        e.state().observeLatency(t0, MS, PeakEwma.DECAY_NANOS);
        e.state().observeLatency(t0 + 1, 200 * MS, PeakEwma.DECAY_NANOS);
        assertThat(e.state().ewmaNanos(t0 + 2, PeakEwma.DECAY_NANOS)).isGreaterThan(199 * MS);
        // one time constant later, e^-1 of it; six later, 0.25%
        assertThat(e.state().ewmaNanos(t0 + PeakEwma.DECAY_NANOS, PeakEwma.DECAY_NANOS))
                .isBetween(73 * MS, 74 * MS);
        assertThat(e.state().ewmaNanos(t0 + 6 * PeakEwma.DECAY_NANOS, PeakEwma.DECAY_NANOS)).isLessThan(MS / 2);
    }

    @Test
    void peakEwmaTriesASlowEndpointAgainAfterItsEstimateDecayed() {
        Upstream u = upstream("peak_ewma", "a", "b", "c");
        // a was slow a minute ago (6 time constants: 200 ms decays to 0.5 ms); b and c answer in 1 ms now
        endpoint(u, "a").state().observeLatency(System.nanoTime() - 60_000 * MS, 200 * MS, PeakEwma.DECAY_NANOS);
        u.observe(endpoint(u, "b"), MS, false);
        u.observe(endpoint(u, "c"), MS, false);
        assertThat(count(u, 10_000).get("a")).isGreaterThan(3000);
        // and a new slow answer sends traffic away at once
        u.observe(endpoint(u, "a"), 200 * MS, false);
        assertThat(count(u, 10_000).get("a")).isZero();
    }

    @Test
    void peakEwmaPushesTrafficAwayFromFailures() {
        Upstream u = upstream("peak_ewma", "a", "b", "c");
        for (Endpoint e : u.endpoints()) {
            u.observe(e, MS, false);
        }
        // a fails fast: 50 µs 503s must not make it look like the fastest endpoint
        u.observe(endpoint(u, "a"), 50_000, true);
        assertThat(count(u, 10_000).get("a")).isZero();
    }

    @Test
    void peakEwmaSendsOneRequestAtATimeToAnEndpointThatNeverAnswered() {
        Upstream u = upstream("peak_ewma", "a", "b");
        u.observe(endpoint(u, "b"), 5 * MS, false);
        assertThat(count(u, 100)).containsEntry("a", 100); // unknown and idle: assumed fast (1 ms)
        inFlight(endpoint(u, "a"), 1);
        assertThat(count(u, 100)).containsEntry("b", 100); // unknown with one in flight: wait for its answer
    }

    @Test
    void otherBalancersIgnoreLatencies() {
        Upstream u = upstream("round_robin", "a", "b");
        u.observe(endpoint(u, "a"), 200 * MS, true);
        assertThat(endpoint(u, "a").state().ewmaNanos(System.nanoTime(), PeakEwma.DECAY_NANOS)).isZero();
        assertThat(count(u, 100)).containsEntry("a", 50);
    }
}
