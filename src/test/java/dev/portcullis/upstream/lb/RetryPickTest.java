package dev.portcullis.upstream.lb;

import static dev.portcullis.upstream.lb.LbFixtures.endpoint;
import static dev.portcullis.upstream.lb.LbFixtures.inFlight;
import static dev.portcullis.upstream.lb.LbFixtures.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every algorithm: each try of a request goes to an endpoint it has not tried, until none is left. */
class RetryPickTest {

    static String[] algorithms() {
        return LbFixtures.ALGORITHMS;
    }

    private static List<Endpoint> allTries(Upstream u, long hash) {
        Tries t = new Tries(hash);
        List<Endpoint> got = new ArrayList<>();
        Endpoint e;
        while ((e = t.next(u)) != null) {
            got.add(e);
            assertThat(got).hasSizeLessThanOrEqualTo(u.endpoints().size());
        }
        return got;
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void everyRetryGetsAnotherEndpoint(String algorithm) {
        Upstream u = upstream(algorithm, "a:5", "b:3", "c", "d", "x:1:backup");
        for (int r = 0; r < 500; r++) {
            List<String> hosts = allTries(u, Hashing.mix(r)).stream().map(e -> e.address().host()).toList();
            assertThat(hosts).as("%s, request %d", algorithm, r).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrder("a", "b", "c", "d", "x");
            // the backup only after every primary
            assertThat(hosts.get(4)).isEqualTo("x");
        }
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void retriesStayDistinctUnderLoadAndWithLatencies(String algorithm) {
        Upstream u = upstream(algorithm, "a", "b", "c");
        // the loaded or slow endpoint is what the picker avoids; after the others were tried it is the only one
        inFlight(endpoint(u, "a"), 7);
        u.observe(endpoint(u, "a"), 500_000_000L, false);
        u.observe(endpoint(u, "b"), 1_000_000L, false);
        for (int r = 0; r < 200; r++) {
            List<Endpoint> tries = allTries(u, Hashing.mix(r));
            assertThat(tries).doesNotHaveDuplicates().hasSize(3);
        }
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void oneEndpointIsTriedOnce(String algorithm) {
        Upstream u = upstream(algorithm, "a");
        assertThat(allTries(u, 42)).hasSize(1);
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void unhealthyEndpointsComeLastInARetry(String algorithm) {
        Upstream u = upstream(algorithm, "a", "b", "c", "d");
        endpoint(u, "c").state().checkResult(false, 1, 1);
        u.refresh();
        for (int r = 0; r < 100; r++) {
            List<String> hosts = allTries(u, Hashing.mix(r)).stream().map(e -> e.address().host()).toList();
            assertThat(hosts).hasSize(4).endsWith("c");
        }
    }
}
