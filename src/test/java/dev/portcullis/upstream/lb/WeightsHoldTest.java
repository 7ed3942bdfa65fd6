package dev.portcullis.upstream.lb;

import static dev.portcullis.upstream.lb.LbFixtures.count;
import static dev.portcullis.upstream.lb.LbFixtures.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Weights 5:3:1:1 at equal load: every algorithm sends each endpoint its share. */
class WeightsHoldTest {
    private static final String[] SPECS = {"a:5", "b:3", "c:1", "d:1"};
    private static final Map<String, Double> SHARE = Map.of("a", 0.5, "b", 0.3, "c", 0.1, "d", 0.1);

    @ParameterizedTest
    @ValueSource(strings = {"round_robin", "least_connections"})
    void deterministicAlgorithmsAreExactOver10000Picks(String algorithm) {
        Map<String, Integer> got = count(upstream(algorithm, SPECS), 10_000);
        assertThat(got).containsEntry("a", 5000).containsEntry("b", 3000).containsEntry("c", 1000)
                .containsEntry("d", 1000);
    }

    /**
     * 100,000 picks: within ±5% of each share is then more than 5 standard deviations for the smallest (10%)
     * share, so the test does not flake (over 10,000 picks ±5% of a 10% share would be only 1.7 of them).
     */
    @ParameterizedTest
    @ValueSource(strings = {"random", "power_of_two", "peak_ewma"})
    void randomizedAlgorithmsHoldWithin5Percent(String algorithm) {
        int picks = 100_000;
        Map<String, Integer> got = count(upstream(algorithm, SPECS), picks);
        SHARE.forEach((host, share) -> assertThat(got.get(host)).as("%s: picks of %s in %s", algorithm, host, got)
                .isBetween((int) (picks * share * 0.95), (int) (picks * share * 1.05)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"maglev", "ring"})
    void consistentHashSpreadsKeysByWeight(String algorithm) {
        int picks = 100_000;
        Map<String, Integer> got = count(upstream(algorithm, SPECS), picks);
        double tolerance = algorithm.equals("ring") ? 0.05 : 0.03;
        SHARE.forEach((host, share) -> assertThat(got.get(host)).as("%s: keys of %s in %s", algorithm, host, got)
                .isBetween((int) (picks * share * (1 - tolerance)), (int) (picks * share * (1 + tolerance))));
    }

    /**
     * Peak EWMA when latencies differ only by noise: each round the endpoints get fresh estimates in a random order
     * of cost, and the cheaper of two independent weighted draws wins. Averaged over the rounds, the shares are the
     * weights again (with a fixed order the cheapest would take 1 - (1 - w)² instead).
     */
    @Test
    void peakEwmaKeepsWeightsWhenLatenciesOnlyJitter() {
        java.util.Random jitter = new java.util.Random(7);
        Map<String, Integer> got = new java.util.HashMap<>();
        int rounds = 4000;
        int perRound = 25;
        for (int r = 0; r < rounds; r++) {
            Upstream u = upstream("peak_ewma", SPECS);
            for (Endpoint e : u.endpoints()) {
                u.observe(e, 1_000_000 + jitter.nextInt(100_000), false);
            }
            Tries t = new Tries();
            for (int i = 0; i < perRound; i++) {
                got.merge(u.choose(t).address().host(), 1, Integer::sum);
            }
        }
        int picks = rounds * perRound;
        SHARE.forEach((host, share) -> assertThat(got.get(host)).as("picks of %s in %s", host, got)
                .isBetween((int) (picks * share * 0.95), (int) (picks * share * 1.05)));
    }

    @Test
    void smoothRoundRobinNeverBurstsTheHeavyEndpoint() {
        Upstream u = upstream("round_robin", "a:5", "b", "c");
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            seq.append(u.choose(new Tries()).address().host());
        }
        assertThat(seq.toString()).isEqualTo("aabacaaaabacaa");
    }

    @Test
    void theAliasTableGivesEachIndexExactlyItsWeight() {
        java.util.Random r = new java.util.Random(3);
        for (int round = 0; round < 200; round++) {
            int n = 1 + r.nextInt(120);
            int[] w = new int[n];
            for (int i = 0; i < n; i++) {
                w[i] = 1 + r.nextInt(round % 2 == 0 ? 3 : 100_000);
            }
            WeightedDraw draw = new WeightedDraw(w);
            double total = Weights.total(w);
            for (int i = 0; i < n; i++) {
                assertThat(draw.chance(i)).as("round %d, index %d of %d", round, i, n)
                        .isCloseTo(w[i] / total, org.assertj.core.data.Offset.offset(1e-9));
            }
        }
    }

    @Test
    void reducedAndCappedWeightsKeepRatios() {
        assertThat(Weights.reduced(new int[] {300, 100, 200})).containsExactly(3, 1, 2);
        int[] capped = Weights.capped(new int[] {100_000, 1, 50_000}, 4096);
        assertThat(Weights.total(capped)).isLessThanOrEqualTo(4097);
        assertThat(capped[1]).isEqualTo(1);
        assertThat((double) capped[0] / capped[2]).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.01));
        long[] prefix = Weights.prefixSums(new int[] {3, 1, 2});
        assertThat(Weights.indexOf(prefix, 0)).isZero();
        assertThat(Weights.indexOf(prefix, 2)).isZero();
        assertThat(Weights.indexOf(prefix, 3)).isEqualTo(1);
        assertThat(Weights.indexOf(prefix, 4)).isEqualTo(2);
        assertThat(Weights.indexOf(prefix, 5)).isEqualTo(2);
    }
}
