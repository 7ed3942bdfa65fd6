package dev.portcullis.upstream.lb;

import static dev.portcullis.upstream.lb.LbFixtures.count;
import static dev.portcullis.upstream.lb.LbFixtures.endpoint;
import static dev.portcullis.upstream.lb.LbFixtures.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which endpoints take traffic ({@code Upstream.refresh}): healthy primaries; backups once none, or fewer than
 * {@code panic_threshold}, of the primaries are healthy; every primary (panic) when no backup is healthy either;
 * {@code panic_threshold: 0} turns panic off.
 */
class BackupPanicTest {
    private static final String[] SPECS = {"a", "b", "c", "x:1:backup", "y:1:backup"};

    private static void down(Upstream u, String... hosts) {
        for (String h : hosts) {
            endpoint(u, h).state().checkResult(false, 1, 1);
        }
        u.refresh();
    }

    private static String[] active(Upstream u) {
        return Arrays.stream(u.set().active()).map(e -> e.address().host()).sorted().toArray(String[]::new);
    }

    @Test
    void backupsIdleWhilePrimariesAreHealthy() {
        Upstream u = upstream("round_robin", SPECS);
        assertThat(active(u)).containsExactly("a", "b", "c");
        assertThat(count(u, 300)).containsEntry("x", 0).containsEntry("y", 0).containsEntry("a", 100);
        down(u, "a"); // 2 of 3 = 67%, above the default 50%
        assertThat(active(u)).containsExactly("b", "c");
        assertThat(u.set().panic()).isFalse();
    }

    @Test
    void backupsJoinWhenPrimariesFallBelowTheThreshold() {
        Upstream u = upstream("round_robin", SPECS);
        down(u, "a", "b"); // 1 of 3 = 33% < 50%
        assertThat(active(u)).containsExactly("c", "x", "y");
        assertThat(u.set().panic()).isFalse();
    }

    @Test
    void backupsTakeOverWhenNoPrimaryIsHealthy() {
        Upstream u = upstream("round_robin", SPECS);
        down(u, "a", "b", "c");
        assertThat(active(u)).containsExactly("x", "y");
        assertThat(count(u, 100)).containsEntry("x", 50).containsEntry("y", 50).containsEntry("a", 0);
        // a primary comes back: 1 of 3 is still below 50%, so it shares with the backups; 2 of 3 and they idle
        endpoint(u, "a").state().checkResult(true, 1, 1);
        u.refresh();
        assertThat(active(u)).containsExactly("a", "x", "y");
        endpoint(u, "b").state().checkResult(true, 1, 1);
        u.refresh();
        assertThat(active(u)).containsExactly("a", "b");
    }

    @Test
    void panicSpreadsOverEveryPrimaryWhenNoBackupIsHealthy() {
        Upstream u = upstream("round_robin", SPECS);
        down(u, "a", "b", "x", "y");
        assertThat(active(u)).containsExactly("a", "b", "c");
        assertThat(u.set().panic()).isTrue();
        Map<String, Integer> got = count(u, 300);
        assertThat(got).containsEntry("a", 100).containsEntry("b", 100).containsEntry("c", 100);
        down(u, "c"); // none healthy at all: still every primary, never the sick backups
        assertThat(active(u)).containsExactly("a", "b", "c");
    }

    @Test
    void drainedPrimariesAreNotPartOfPanic() {
        Upstream u = upstream("round_robin", SPECS);
        down(u, "a", "b", "x", "y");
        endpoint(u, "c").state().drained(true);
        u.refresh();
        assertThat(active(u)).containsExactly("a", "b");
        assertThat(u.set().panic()).isTrue();
    }

    @Test
    void thresholdZeroTurnsPanicOff() {
        Upstream u = upstream("round_robin", 0, SPECS);
        down(u, "a", "b"); // 1 of 3 healthy: no threshold to fall below, so the backups stay idle
        assertThat(active(u)).containsExactly("c");
        down(u, "c"); // none healthy: the backups still take over
        assertThat(active(u)).containsExactly("x", "y");
        down(u, "x", "y"); // nothing healthy and no panic: no endpoint, the request fails at once (503)
        assertThat(active(u)).isEmpty();
        assertThat(u.set().panic()).isFalse();
        assertThat(u.choose(new Tries())).isNull();
    }

    @Test
    void thresholdHundredNeedsEveryPrimary() {
        Upstream u = upstream("round_robin", 100, "a", "b", "x:1:backup");
        down(u, "a");
        assertThat(active(u)).containsExactly("b", "x");
        down(u, "x");
        assertThat(active(u)).containsExactly("a", "b");
        assertThat(u.set().panic()).isTrue();
    }

    @Test
    void onlyBackupsLeftAfterDrainingEveryPrimary() {
        Upstream u = upstream("round_robin", SPECS);
        for (String h : new String[] {"a", "b", "c"}) {
            endpoint(u, h).state().drained(true);
        }
        u.refresh();
        assertThat(active(u)).containsExactly("x", "y");
        assertThat(count(u, 10)).containsEntry("x", 5).containsEntry("y", 5);
    }

    @Test
    void ejectedEndpointsCountAsUnhealthy() {
        Upstream u = upstream("round_robin", SPECS);
        long now = System.nanoTime();
        endpoint(u, "a").state().eject(now, 60_000_000_000L);
        endpoint(u, "b").state().eject(now, 60_000_000_000L);
        u.refresh();
        assertThat(active(u)).containsExactly("c", "x", "y");
    }

    @ParameterizedTest
    @ValueSource(strings = {"round_robin", "least_connections", "random", "power_of_two", "peak_ewma", "maglev", "ring"})
    void aRetryPrefersAHealthyBackupToASickPrimary(String algorithm) {
        Upstream u = upstream(algorithm, SPECS);
        down(u, "c"); // 2 of 3: only a and b are active
        for (int r = 0; r < 50; r++) {
            Tries t = new Tries(Hashing.mix(r));
            StringBuilder hosts = new StringBuilder();
            Endpoint e;
            while ((e = t.next(u)) != null) {
                hosts.append(e.address().host());
            }
            assertThat(hosts.substring(2)).isEqualTo("xyc");
        }
    }
}
