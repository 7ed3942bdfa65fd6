package dev.portcullis.upstream.lb;

import static dev.portcullis.upstream.TestEndpoints.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.UpstreamConfig.Balance;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

    private static String sequence(Upstream u, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(u.choose(new Tries()).address().host());
        }
        return sb.toString();
    }

    @Test
    void smoothWeightsSpreadTheHeavyEndpoint() {
        assertThat(sequence(upstream(Balance.ROUND_ROBIN, "a:5", "b", "c"), 7)).isEqualTo("aabacaa");
    }

    @Test
    void equalWeightsRotate() {
        assertThat(sequence(upstream(Balance.ROUND_ROBIN, "a", "b", "c"), 6)).isEqualTo("abcabc");
    }

    @Test
    void weightsHoldOverManyRequests() {
        Upstream u = upstream(Balance.ROUND_ROBIN, "a:3", "b:2");
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            counts.merge(u.choose(new Tries()).address().host(), 1, Integer::sum);
        }
        assertThat(counts).containsEntry("a", 300).containsEntry("b", 200);
        assertThat(sequence(upstream(Balance.ROUND_ROBIN, "a:3", "b:2"), 5)).isEqualTo("ababa");
    }

    @Test
    void retriesVisitEveryEndpointOnce() {
        Upstream u = upstream(Balance.ROUND_ROBIN, "a:5", "b", "c");
        for (int t = 0; t < 14; t++) {
            Tries tries = new Tries();
            List<String> hosts = new ArrayList<>();
            Endpoint e;
            while ((e = tries.next(u)) != null) {
                hosts.add(e.address().host());
                assertThat(hosts).hasSizeLessThan(10);
            }
            assertThat(hosts).containsExactlyInAnyOrder("a", "b", "c");
        }
    }

    @Test
    void backupsOnlyAfterEveryPrimary() {
        Upstream u = upstream(Balance.ROUND_ROBIN, "a", "x:1:backup", "b", "y:1:backup");
        assertThat(sequence(u, 6)).isEqualTo("ababab");
        for (int t = 0; t < 4; t++) {
            Tries tries = new Tries();
            List<String> hosts = new ArrayList<>();
            Endpoint e;
            while ((e = tries.next(u)) != null) {
                hosts.add(e.address().host());
            }
            assertThat(hosts).hasSize(4);
            assertThat(hosts.subList(0, 2)).containsExactlyInAnyOrder("a", "b");
            assertThat(hosts.subList(2, 4)).containsExactly("x", "y");
        }
    }

    @Test
    void backupsTakeOverWhenEveryPrimaryIsDown() {
        Upstream u = upstream(Balance.ROUND_ROBIN, "a", "b", "x:1:backup", "y:1:backup");
        for (Endpoint e : u.endpoints()) {
            if (!e.backup()) {
                e.state().checkResult(false, 1, 1);
            }
        }
        u.refresh();
        assertThat(sequence(u, 4)).isEqualTo("xyxy");
    }
}
