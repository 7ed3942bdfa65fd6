package dev.portcullis.upstream.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.HostPort;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundRobinTest {
    private static final ProxyMetrics METRICS = new ProxyMetrics();

    private static Endpoint ep(String name, int weight, boolean backup) {
        HostPort hp = new HostPort(name, 80);
        return new Endpoint("u", hp, InetSocketAddress.createUnresolved(name, 80), weight, backup,
                METRICS.endpoint("u", hp.toString()));
    }

    private static String sequence(RoundRobin rr, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(rr.pick(rr.nextTicket(), 0).address().host());
        }
        return sb.toString();
    }

    @Test
    void weights511GiveTheSmoothSequence() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 5, false), ep("b", 1, false), ep("c", 1, false)));
        assertThat(sequence(rr, 14)).isEqualTo("aabacaa" + "aabacaa");
    }

    @Test
    void equalWeightsRotate() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 1, false), ep("b", 1, false), ep("c", 1, false)));
        assertThat(sequence(rr, 7)).isEqualTo("abcabca");
    }

    @Test
    void shareFollowsWeights() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 3, false), ep("b", 2, false)));
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            counts.merge(rr.pick(rr.nextTicket(), 0).address().host(), 1, Integer::sum);
        }
        assertThat(counts).containsEntry("a", 300).containsEntry("b", 200);
        assertThat(sequence(new RoundRobin(List.of(ep("a", 3, false), ep("b", 2, false))), 5)).isEqualTo("ababa");
    }

    @Test
    void fallbackVisitsEveryOtherEndpointOnceSkippingTheFirstChoice() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 1, false), ep("b", 1, false), ep("c", 1, false)));
        for (int t = 0; t < 6; t++) {
            long ticket = rr.nextTicket();
            List<String> tried = new ArrayList<>();
            Endpoint e;
            for (int attempt = 0; (e = rr.pick(ticket, attempt)) != null; attempt++) {
                tried.add(e.address().host());
                assertThat(attempt).isLessThan(10);
            }
            assertThat(tried).hasSize(3).doesNotHaveDuplicates();
            assertThat(tried.get(0)).isEqualTo("abc".substring(t % 3, t % 3 + 1));
        }
    }

    @Test
    void fallbackWithWeightsNeverRepeatsTheFirstChoice() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 5, false), ep("b", 1, false), ep("c", 1, false)));
        for (int t = 0; t < 14; t++) {
            long ticket = rr.nextTicket();
            List<String> tried = new ArrayList<>();
            Endpoint e;
            for (int attempt = 0; (e = rr.pick(ticket, attempt)) != null; attempt++) {
                tried.add(e.address().host());
            }
            assertThat(tried).containsExactlyInAnyOrder("a", "b", "c");
        }
    }

    @Test
    void backupsOnlyAfterEveryPrimary() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 1, false), ep("x", 1, true), ep("b", 1, false),
                ep("y", 1, true)));
        assertThat(sequence(rr, 6)).isEqualTo("ababab");
        for (int t = 0; t < 4; t++) {
            long ticket = rr.nextTicket();
            List<String> tried = new ArrayList<>();
            Endpoint e;
            for (int attempt = 0; (e = rr.pick(ticket, attempt)) != null; attempt++) {
                tried.add(e.address().host());
            }
            assertThat(tried).hasSize(4);
            assertThat(tried.subList(0, 2)).containsExactlyInAnyOrder("a", "b");
            assertThat(tried.subList(2, 4)).containsExactly("x", "y");
        }
    }

    @Test
    void onlyBackupsAreUsedAsPrimaries() {
        RoundRobin rr = new RoundRobin(List.of(ep("x", 1, true), ep("y", 1, true)));
        assertThat(sequence(rr, 4)).isEqualTo("xyxy");
    }

    @Test
    void ticketWrapsAroundWithoutNegativeIndex() {
        RoundRobin rr = new RoundRobin(List.of(ep("a", 2, false), ep("b", 1, false)));
        assertThat(rr.pick(Long.MAX_VALUE, 0)).isNotNull();
        assertThat(rr.pick(Long.MIN_VALUE, 0)).isNotNull();
        assertThat(rr.pick(-1, 1)).isNotNull();
    }
}
