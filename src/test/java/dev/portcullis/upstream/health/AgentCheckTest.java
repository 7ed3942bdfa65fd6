package dev.portcullis.upstream.health;

import static dev.portcullis.upstream.health.Proxies.endpoint;
import static dev.portcullis.upstream.health.Proxies.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import dev.portcullis.upstream.TestEndpoints;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** HAProxy-style agent checks: the endpoint reports its own load on a side port and traffic follows it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgentCheckTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void repliesAreReadAsHaproxyReadsThem() {
        assertThat(AgentReply.parse("75%")).isEqualTo(new AgentReply(75, null, null, null, List.of()));
        assertThat(AgentReply.parse("UP 50%")).isEqualTo(new AgentReply(50, null, false, null, List.of()));
        assertThat(AgentReply.parse("up,ready\t0%")).isEqualTo(new AgentReply(0, null, false, false, List.of()));
        assertThat(AgentReply.parse("drain")).isEqualTo(new AgentReply(null, null, null, true, List.of()));
        assertThat(AgentReply.parse("Maint # disk full, 10%")).isEqualTo(new AgentReply(null, null, true, null, List.of()));
        assertThat(AgentReply.parse("fail")).isEqualTo(new AgentReply(null, null, true, null, List.of()));
        assertThat(AgentReply.parse("stopped")).isEqualTo(new AgentReply(null, null, true, null, List.of()));
        assertThat(AgentReply.parse("down")).isEqualTo(new AgentReply(null, null, true, null, List.of()));
        assertThat(AgentReply.parse("maxconn:30 up 7")).isEqualTo(new AgentReply(null, 7, false, null, List.of()));
        assertThat(AgentReply.parse("  ")).isEqualTo(new AgentReply(null, null, null, null, List.of()));
        AgentReply odd = AgentReply.parse("hello 12x% -5% 99999999999%");
        assertThat(odd.meaningful()).isFalse();
        assertThat(odd.unknown()).containsExactly("hello", "12x%", "-5%", "99999999999%");
    }

    @Test
    void agentDrainAndAdminDrainDoNotUndoEachOther() {
        Endpoint e = TestEndpoints.ep("a", 4, false);
        EndpointState s = e.state();
        s.drained(true); // the admin API
        assertThat(AgentCheck.applyTo(AgentReply.parse("ready up 100%"), e)).isFalse();
        assertThat(s.drained()).isTrue();
        assertThat(s.refusesNewRequests()).isTrue();
        s.drained(false);
        assertThat(AgentCheck.applyTo(AgentReply.parse("drain"), e)).isTrue();
        assertThat(s.refusesNewRequests()).isTrue();
        assertThat(s.drained()).as("the admin's flag is untouched").isFalse();
        assertThat(AgentCheck.applyTo(AgentReply.parse("50%"), e)).isTrue();
        assertThat(s.refusesNewRequests()).as("a weight alone does not end the agent's drain").isTrue();
        assertThat(AgentCheck.applyTo(AgentReply.parse("ready"), e)).isTrue();
        assertThat(s.refusesNewRequests()).isFalse();
        assertThat(AgentCheck.applyTo(AgentReply.parse("0%"), e)).isTrue();
        assertThat(s.refusesNewRequests()).as("0% takes no new requests").isTrue();
        // a bare number is a weight on the config's scale: 2 of a configured 4 is 50%
        assertThat(AgentCheck.applyTo(AgentReply.parse("2"), e)).isTrue();
        assertThat(s.agentWeightPercent()).isEqualTo(50);
        assertThat(s.refusesNewRequests()).isFalse();
    }

    @Test
    void trafficFollowsTheLoadEachAgentReports() throws Exception {
        try (HealthBackend a = HealthBackend.start("a", "127.0.0.1", 0);
             AgentServer agentA = new AgentServer("127.0.0.1", 0, "10%");
             HealthBackend b = HealthBackend.start("b", "127.0.0.2", 0);
             AgentServer agentB = new AgentServer("127.0.0.2", agentA.port(), "up 100%");
             LogCapture logs = LogCapture.of(AgentCheck.class);
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address(), "",
                     ", health_check: { agent: { port: " + agentA.port() + " }, interval: 200ms, timeout: 200ms }")) {
            Endpoint ea = endpoint(p, a);
            Endpoint eb = endpoint(p, b);
            await().atMost(WAIT).until(() -> ea.state().agentWeightPercent() == 10 && agentB.connections.get() > 0);

            send(p, 550);
            int toA = a.requests.get();
            int toB = b.requests.get();
            assertThat(toA + toB).isEqualTo(550);
            System.err.printf("AgentCheckTest: agents at 10%% and 100%%: a got %d, b got %d of 550%n", toA, toB);
            assertThat((double) toB / toA).as("a=%d b=%d", toA, toB).isBetween(6.0, 15.0);

            agentA.line = "up 100%";
            await().atMost(WAIT).until(() -> ea.state().agentWeightPercent() == 100);
            send(p, 200);
            System.err.printf("AgentCheckTest: both at 100%%: a got %d of 200%n", a.requests.get() - toA);
            assertThat(a.requests.get() - toA).isBetween(80, 120);

            agentA.line = "drain";
            await().atMost(WAIT).until(() -> ea.state().refusesNewRequests());
            int drainedAt = a.requests.get();
            send(p, 20);
            assertThat(a.requests.get()).as("drained by its agent").isEqualTo(drainedAt);

            agentA.line = "ready 100%";
            await().atMost(WAIT).until(() -> !ea.state().refusesNewRequests());
            send(p, 20);
            assertThat(a.requests.get()).isGreaterThan(drainedAt);

            agentA.line = "down";
            await().atMost(WAIT).until(() -> ea.state().agentDown());
            int downAt = a.requests.get();
            send(p, 20);
            assertThat(a.requests.get()).as("held down by its agent").isEqualTo(downAt);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l)
                    .isEqualTo("INFO upstream be: agent of endpoint " + a.address() + " says 'down': weight 100%, down"));

            // an agent that cannot be reached changes nothing and is reported once
            agentA.close();
            int probes = agentB.connections.get();
            await().atMost(WAIT).until(() -> agentB.connections.get() >= probes + 5);
            assertThat(ea.state().agentDown()).isTrue();
            assertThat(eb.state().agentDown()).isFalse();
            assertThat(logs.lines().stream().filter(l -> l.startsWith("WARN upstream be: agent of endpoint "
                    + a.address() + " on port " + agentA.port() + " failed (connection refused)"))).hasSize(1);
        }
    }
}
