package dev.portcullis.upstream.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigError;
import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.testing.TestProxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad health_check, agent, discovery and slow_start settings: refused with file:line and what to write instead. */
class HealthConfigErrorsTest {
    private static final String HEAD = """
            listeners:
              - { name: web, bind: 127.0.0.1:8080, routes: [ { upstream: be } ] }
            upstreams:
              be:
                endpoints: [127.0.0.1:9001]
            """;

    private static List<String> errors(String upstreamKeys) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(HEAD + upstreamKeys, "t.yaml", Map.of()));
        assertThat(e).as("expected the config to be refused").isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void healthCheckWithoutAProbe() {
        assertThat(errors("    health_check: {}\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check: a health check needs 'http: { path: ... }' or 'tcp: {}'");
        assertThat(errors("    health_check:\n      http: { path: /h }\n      tcp: {}\n")).containsExactly(
                "t.yaml:8: upstreams.be.health_check.tcp: a health check is either 'http' or 'tcp', not both");
        assertThat(errors("    health_check: { tcp: { port: 1 } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.tcp.port: a tcp check takes no settings (it connects to each "
                        + "endpoint's own address); write 'tcp: {}'");
    }

    @Test
    void timesAndThresholds() {
        assertThat(errors("    health_check: { tcp: {}, interval: 1s, timeout: 2s }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.timeout: the timeout is longer than the interval; a check must "
                        + "end before the next one starts");
        assertThat(errors("    health_check: { tcp: {}, interval: fast, healthy_threshold: 0, unhealthy_threshold: 101 }\n"))
                .containsExactly(
                        "t.yaml:6: upstreams.be.health_check.interval: invalid duration 'fast'; expected a whole number "
                                + "and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d",
                        "t.yaml:6: upstreams.be.health_check.healthy_threshold: '0' is out of range; expected 1..100",
                        "t.yaml:6: upstreams.be.health_check.unhealthy_threshold: '101' is out of range; expected 1..100");
        assertThat(errors("    slow_start: -1s\n")).singleElement().asString()
                .startsWith("t.yaml:6: upstreams.be.slow_start: invalid duration '-1s'");
    }

    @Test
    void httpProbeSettings() {
        assertThat(errors("    health_check: { http: { path: healthz, expect: [200-100, 700] } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.http.path: invalid path 'healthz'; a path must start with '/'",
                "t.yaml:6: upstreams.be.health_check.http.expect[0]: invalid status '200-100'; expected a status such "
                        + "as 200 or a range such as 200-399",
                "t.yaml:6: upstreams.be.health_check.http.expect[1]: invalid status '700'; expected a status such as "
                        + "200 or a range such as 200-399");
        assertThat(errors("    health_check: { http: { path: /a b, host: \"x y\" } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.http.path: invalid path '/a b'; spaces, control and non-ASCII "
                        + "characters must be percent-encoded (a space is %20)",
                "t.yaml:6: upstreams.be.health_check.http.host: invalid host 'x y'; expected a host name such as "
                        + "api.internal or api.internal:8080");
        assertThat(errors("    health_check: { http: { path: /h, host: \"\" } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.http.host: empty host; leave 'host' out to send the endpoint's "
                        + "address");
    }

    @Test
    void agentSettings() {
        assertThat(errors("    health_check: { tcp: {}, agent: {} }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.agent: missing required key 'port'");
        assertThat(errors("    health_check: { agent: { port: 99999, interval: soon } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.agent.port: '99999' is out of range; expected 1..65535",
                "t.yaml:6: upstreams.be.health_check.agent.interval: invalid duration 'soon'; expected a whole number "
                        + "and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d");
        assertThat(errors("    health_check: { http: {}, agnet: { port: 1 } }\n")).containsExactly(
                "t.yaml:6: upstreams.be.health_check.agnet: unknown key 'agnet'; did you mean 'agent'?");
    }

    @Test
    void discoverySettings() {
        assertThat(errors("    discovery: { refresh: 1s }\n")).containsExactly(
                "t.yaml:6: upstreams.be.discovery: missing required key 'dns'");
        assertThat(errors("    discovery: { dns: localhost }\n")).containsExactly(
                "t.yaml:6: upstreams.be.discovery.dns: missing port in 'localhost'; expected host:port such as "
                        + "127.0.0.1:8080");
        assertThat(errors("    discovery: { dns: localhost:80, refresh: 0s }\n")).containsExactly(
                "t.yaml:6: upstreams.be.discovery.refresh: duration '0s' must be above zero");
    }

    @Test
    void badHealthCheckOnReloadKeepsTheRunningConfig() throws Exception {
        try (HealthBackend a = HealthBackend.start("a");
             TestProxy p = TestProxy.toOneUpstream(a.address(), "", ", health_check: { tcp: {}, interval: 1s }")) {
            ReloadOutcome r = p.reload("""
                    listeners:
                      - { name: web, bind: 127.0.0.1:0, routes: [ { upstream: be } ] }
                    upstreams:
                      be: { endpoints: [%s], health_check: { tcp: {}, interval: 1s, timeout: 5s } }
                    """.formatted(a.address()));
            assertThat(r).isInstanceOf(ReloadOutcome.Refused.class);
            assertThat(((ReloadOutcome.Refused) r).errors()).singleElement().asString()
                    .contains("test.yaml:6: upstreams.be.health_check.timeout: the timeout is longer than the interval");
            Proxies.send(p, 3);
            assertThat(a.requests.get()).isEqualTo(3);
        }
    }
}
