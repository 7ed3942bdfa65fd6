package dev.portcullis.upstream.health;

import static dev.portcullis.upstream.health.Proxies.endpoint;
import static dev.portcullis.upstream.health.Proxies.send;
import static dev.portcullis.upstream.health.Proxies.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Active http and tcp checks against real backends that fail, refuse, hang and recover. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HealthCheckTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static String http(String extra) {
        return ", health_check: { http: { path: /healthz }, interval: 200ms, timeout: 200ms, healthy_threshold: 2, "
                + "unhealthy_threshold: 3" + extra + " }";
    }

    @Test
    void endpointFailingItsHttpCheckLeavesAfterTheThresholdAndComesBack() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             LogCapture logs = LogCapture.of(ActiveHealthCheck.class);
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address(), "", http(""))) {
            Endpoint eb = endpoint(p, b);
            send(p, 20);
            assertThat(b.requests.get()).isEqualTo(10);

            b.healthStatus = 500;
            await().atMost(WAIT).until(() -> !eb.state().healthy());
            // never before three failed checks in a row
            assertThat(b.failedChecks.get()).isGreaterThanOrEqualTo(3);
            int before = b.requests.get();
            send(p, 30);
            assertThat(b.requests.get()).as("no traffic to the unhealthy endpoint").isEqualTo(before);
            assertThat(a.requests.get()).isEqualTo(10 + 30);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN upstream be: endpoint "
                    + b.address() + " is unhealthy after 3 failed check(s) in a row (GET /healthz: status 500)"));

            int passedBefore = b.passedChecks.get();
            b.healthStatus = 200;
            await().atMost(WAIT).until(() -> eb.state().healthy());
            assertThat(b.passedChecks.get() - passedBefore).isGreaterThanOrEqualTo(2);
            send(p, 20);
            assertThat(b.requests.get()).as("back in the rotation").isEqualTo(before + 10);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).startsWith("INFO upstream be: endpoint "
                    + b.address() + " is healthy again after 2 passed check(s)"));
        }
    }

    @Test
    void checkSendsHostConnectionCloseAndTheConfiguredPath() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             TestProxy p = TestProxy.start("""
                     listeners:
                       - { name: web, bind: 127.0.0.1:0, routes: [ { upstream: be }, ] }
                     upstreams:
                       be:
                         endpoints: [%s]
                         health_check: { http: { path: /healthz }, interval: 200ms, timeout: 200ms }
                       named:
                         endpoints: [%s]
                         health_check: { http: { path: "/healthz?deep=1", host: health.internal, expect: [200] },
                                         interval: 200ms, timeout: 200ms }
                     """.formatted(a.address(), b.address()))) {
            await().atMost(WAIT).until(() -> !a.checkHeads.isEmpty() && !b.checkHeads.isEmpty());
            assertThat(a.checkHeads.peek()).isEqualTo(a.address() + "|close|portcullis-health-check|/healthz");
            assertThat(b.checkHeads.peek()).isEqualTo("health.internal|close|portcullis-health-check|/healthz?deep=1");
            assertThat(p.process().ready()).isTrue();
        }
    }

    @Test
    void statusOutsideTheExpectedRangesFails() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address(), "",
                     ", health_check: { http: { path: /healthz, expect: [204, 300-302] }, interval: 200ms, "
                             + "timeout: 200ms, unhealthy_threshold: 2 }")) {
            a.healthStatus = 204;
            b.healthStatus = 301;
            Endpoint ea = endpoint(p, a);
            Endpoint eb = endpoint(p, b);
            await().atMost(WAIT).until(() -> a.passedChecks.get() >= 3 && b.passedChecks.get() >= 3);
            assertThat(ea.state().healthy()).isTrue();
            assertThat(eb.state().healthy()).isTrue();
            b.healthStatus = 200; // a success, but not one the config expects
            await().atMost(WAIT).until(() -> !eb.state().healthy());
            assertThat(ea.state().healthy()).isTrue();
        }
    }

    @Test
    void tcpCheckSeesAClosedPortAndItsReturn() throws Exception {
        int closed = ScriptedBackend.closedPort();
        try (HealthBackend a = HealthBackend.start("a"); LogCapture logs = LogCapture.of(ActiveHealthCheck.class);
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", 127.0.0.1:" + closed, "",
                     ", health_check: { tcp: {}, interval: 200ms, timeout: 200ms, unhealthy_threshold: 2, "
                             + "healthy_threshold: 1 }")) {
            Endpoint dead = endpoint(p, "127.0.0.1", closed);
            await().atMost(WAIT).until(() -> !dead.state().healthy());
            assertThat(endpoint(p, a).state().healthy()).isTrue();
            assertThat(upstream(p, "be").set().active()).containsExactly(endpoint(p, a));
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("127.0.0.1:" + closed)
                    .contains("tcp connect: connection refused"));
            send(p, 10);
            assertThat(a.requests.get()).isEqualTo(10);
            try (ServerSocket back = new ServerSocket(closed, 50, InetAddress.getByName("127.0.0.1"))) {
                await().atMost(WAIT).until(() -> dead.state().healthy());
            }
        }
    }

    @Test
    void backendThatAcceptsButNeverAnswersFailsByTimeout() throws Exception {
        try (HealthBackend a = HealthBackend.start("a");
             ScriptedBackend silent = ScriptedBackend.start((s, i) -> s.getInputStream().readAllBytes());
             LogCapture logs = LogCapture.of(ActiveHealthCheck.class);
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + silent.address(), "",
                     ", health_check: { http: { path: /healthz }, interval: 300ms, timeout: 200ms, "
                             + "unhealthy_threshold: 2 }")) {
            Endpoint hung = endpoint(p, "127.0.0.1", silent.port());
            await().atMost(WAIT).until(() -> !hung.state().healthy());
            assertThat(silent.connections.get()).as("each check opened a connection").isGreaterThanOrEqualTo(2);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains(silent.address())
                    .contains("GET /healthz: no answer within 200 ms"));
            send(p, 10); // would hang on the silent one if it were still chosen
            assertThat(a.requests.get()).isEqualTo(10);
        }
    }

    @Test
    void garbledOrOversizedAnswersFail() throws Exception {
        ScriptedBackend.Script garbage = (s, i) -> {
            s.getInputStream().read(new byte[4096]);
            ScriptedBackend.write(s, "hello there\r\n\r\n");
            s.getInputStream().readAllBytes();
        };
        ScriptedBackend.Script huge = (s, i) -> {
            s.getInputStream().read(new byte[4096]);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(HttpProbe.MAX_HEAD + 100) + "\r\n\r\n");
            s.getInputStream().readAllBytes();
        };
        try (HealthBackend a = HealthBackend.start("a"); ScriptedBackend g = ScriptedBackend.start(garbage);
             ScriptedBackend h = ScriptedBackend.start(huge);
             LogCapture logs = LogCapture.of(ActiveHealthCheck.class);
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + g.address() + ", " + h.address(), "",
                     ", health_check: { http: { path: /healthz }, interval: 200ms, timeout: 200ms, "
                             + "unhealthy_threshold: 2 }")) {
            Endpoint eg = endpoint(p, "127.0.0.1", g.port());
            Endpoint eh = endpoint(p, "127.0.0.1", h.port());
            await().atMost(WAIT).until(() -> !eg.state().healthy() && !eh.state().healthy());
            assertThat(endpoint(p, a).state().healthy()).isTrue();
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains(g.address())
                    .contains("GET /healthz: invalid response head"));
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains(h.address())
                    .contains("GET /healthz: invalid response head"));
        }
    }

    @Test
    void stateSurvivesReloadsAndChecksStopWithTheirUpstream() throws Exception {
        try (HealthBackend a = HealthBackend.start("a"); HealthBackend b = HealthBackend.start("b");
             HealthBackend c = HealthBackend.start("c")) {
            String base = """
                    listeners:
                      - { name: web, bind: 127.0.0.1:0, routes: [ { upstream: %s } ] }
                    upstreams:
                      be: { endpoints: [%s, %s]%s }
                      other: { endpoints: [%s] }
                    """;
            String checked = http("");
            try (TestProxy p = TestProxy.start(base.formatted("be", a.address(), b.address(), checked, c.address()))) {
                Endpoint eb = endpoint(p, b);
                b.healthStatus = 500;
                await().atMost(WAIT).until(() -> !eb.state().healthy());

                // 1. another part of the config changes: same Upstream object, its checks run on
                Upstream before = upstream(p, "be");
                assertThat(p.reload(base.formatted("be", a.address(), b.address(), checked, c.address())
                        .replace("other: { endpoints", "other: { connect_timeout: 3s, endpoints")))
                        .isInstanceOf(ReloadOutcome.Applied.class);
                assertThat(upstream(p, "be")).isSameAs(before);
                int checks = b.failedChecks.get();
                await().atMost(WAIT).until(() -> b.failedChecks.get() >= checks + 2);
                assertThat(eb.state().healthy()).isFalse();

                // 2. its own config changes: a new Upstream, the endpoint's state goes with it
                assertThat(p.reload(base.formatted("be", a.address(), b.address(), http(", timeout: 190ms")
                        .replace("timeout: 200ms, ", ""), c.address()))).isInstanceOf(ReloadOutcome.Applied.class);
                assertThat(upstream(p, "be")).isNotSameAs(before);
                Endpoint eb2 = endpoint(p, b);
                assertThat(eb2.state().healthy()).as("still unhealthy after the reload").isFalse();
                int seen = b.requests.get();
                send(p, 20);
                assertThat(b.requests.get()).isEqualTo(seen);
                b.healthStatus = 200;
                await().atMost(WAIT).until(() -> eb2.state().healthy());

                // 3. health_check removed while unhealthy: every endpoint counts as healthy again, checks stop
                b.healthStatus = 500;
                await().atMost(WAIT).until(() -> !eb2.state().healthy());
                assertThat(p.reload(base.formatted("be", a.address(), b.address(), "", c.address())))
                        .isInstanceOf(ReloadOutcome.Applied.class);
                assertThat(endpoint(p, b).state().healthy()).isTrue();
                send(p, 20);
                assertThat(b.requests.get()).isEqualTo(seen + 10);
                int total = b.failedChecks.get() + b.passedChecks.get();
                Thread.sleep(500);
                assertThat(b.failedChecks.get() + b.passedChecks.get()).as("no checks after removal")
                        .isLessThanOrEqualTo(total + 1);

                // 4. the checked upstream leaves the config: its checks stop
                assertThat(p.reload(base.formatted("be", a.address(), b.address(), checked, c.address())))
                        .isInstanceOf(ReloadOutcome.Applied.class);
                await().atMost(WAIT).until(() -> a.passedChecks.get() >= 2);
                assertThat(p.reload(base.formatted("other", a.address(), b.address(), checked, c.address())
                        .replace("  be: { endpoints: [" + a.address() + ", " + b.address() + "]" + checked + " }\n",
                                ""))).isInstanceOf(ReloadOutcome.Applied.class);
                assertThat(upstream(p, "be")).isNull();
                int aChecks = a.passedChecks.get();
                Thread.sleep(500);
                assertThat(a.passedChecks.get()).as("checks stop with their upstream").isLessThanOrEqualTo(aChecks + 1);
            }
        }
    }
}
