package dev.portcullis.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.UpstreamConfig;
import org.junit.jupiter.api.Test;

/** How agent drains and backups shape the set balancers pick from (no sockets). */
class AgentAndBackupSetTest {

    private static UpstreamConfig withPanic(UpstreamConfig c, double panic) {
        return new UpstreamConfig(c.name(), c.endpoints(), c.balance(), c.hashOn(), c.hashMethod(), c.discovery(),
                c.sticky(), c.healthCheck(), c.outlierDetection(), c.slowStart(), c.circuitBreaker(), panic,
                c.connectTimeout(), c.keepalive());
    }

    @Test
    void backupsStepInWhenNoPrimaryIsHealthyEvenWithPanicThresholdZero() {
        String[] eps = {"a", "b", "x:1:backup"};
        Upstream u = TestEndpoints.upstream(withPanic(TestEndpoints.config(UpstreamConfig.Balance.ROUND_ROBIN, eps), 0),
                eps);
        Endpoint a = u.endpoints().get(0);
        Endpoint b = u.endpoints().get(1);
        Endpoint x = u.endpoints().get(2);
        a.state().checkResult(false, 1, 1);
        u.refresh();
        assertThat(u.set().active()).containsExactly(b);
        b.state().checkResult(false, 1, 1);
        u.refresh();
        assertThat(u.set().active()).containsExactly(x);
        assertThat(u.set().panic()).isFalse();
    }

    @Test
    void agentDrainAndZeroPercentLeaveTheSetAndTheFallback() {
        Upstream u = TestEndpoints.upstream(UpstreamConfig.Balance.ROUND_ROBIN, "a", "b", "c");
        Endpoint a = u.endpoints().get(0);
        Endpoint b = u.endpoints().get(1);
        Endpoint c = u.endpoints().get(2);
        a.state().agentDrained(true);
        b.state().agentWeightPercent(0);
        c.state().agentWeightPercent(40);
        u.refresh();
        assertThat(u.set().active()).containsExactly(c);
        assertThat(u.set().fallback()).containsExactly(c);
        assertThat(u.set().weights()).containsExactly(40);
        TestEndpoints.Tries t = new TestEndpoints.Tries();
        assertThat(t.next(u)).isSameAs(c);
        assertThat(t.next(u)).as("a retry never goes to a drained endpoint").isNull();
    }

    @Test
    void anEndpointItsAgentCallsDownTakesNothingNotEvenInPanic() {
        Upstream u = TestEndpoints.upstream(UpstreamConfig.Balance.ROUND_ROBIN, "a", "b", "c");
        Endpoint a = u.endpoints().get(0);
        Endpoint b = u.endpoints().get(1);
        Endpoint c = u.endpoints().get(2);
        a.state().agentDown(true); // "maint"
        b.state().checkResult(false, 1, 1);
        c.state().checkResult(false, 1, 1);
        u.refresh();
        assertThat(u.set().panic()).isTrue();
        assertThat(u.set().active()).containsExactly(b, c);
        assertThat(u.set().fallback()).doesNotContain(a);
        TestEndpoints.Tries t = new TestEndpoints.Tries();
        assertThat(t.next(u)).isNotSameAs(a);
        assertThat(t.next(u)).isNotSameAs(a);
        assertThat(t.next(u)).isNull();
    }
}
