package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Bad and good values of route {@code retry} and upstream {@code circuit_breaker} and {@code outlier_detection}. */
class FailoverConfigErrorsTest {
    private static final String YAML = """
            listeners:
              - name: web
                bind: 127.0.0.1:8080
                routes:
                  - upstream: backend
                    %s
            upstreams:
              backend: { endpoints: [127.0.0.1:9001]%s }
            """;

    private static String route(String retry) {
        return YAML.formatted(retry, "");
    }

    private static String upstream(String extra) {
        return YAML.formatted("", extra);
    }

    private static PortcullisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "t.yaml", Map.of());
    }

    private static final String AT_RETRY = "t.yaml:6: listeners[0].routes[0].retry";
    private static final String AT_UPSTREAM = "t.yaml:8: upstreams.backend.";

    @Test
    void retryAttempts() {
        assertThat(ConfigErrorsTest.errors(route("retry: { attempts: 0 }")))
                .containsExactly(AT_RETRY + ".attempts: '0' is out of range; expected 1..10");
        assertThat(ConfigErrorsTest.errors(route("retry: { attempts: 11 }")))
                .containsExactly(AT_RETRY + ".attempts: '11' is out of range; expected 1..10");
        assertThat(ConfigErrorsTest.errors(route("retry: { attempts: two }")))
                .containsExactly(AT_RETRY + ".attempts: invalid number 'two'; expected a whole number 1..10");
    }

    @Test
    void retryConditions() {
        assertThat(ConfigErrorsTest.errors(route("retry: { on: [connect_failur] }")))
                .containsExactly(AT_RETRY + ".on[0]: unknown retry condition 'connect_failur'; did you mean 'connect_failure'?");
        assertThat(ConfigErrorsTest.errors(route("retry: { on: [reset, bogus] }")))
                .containsExactly(AT_RETRY + ".on[1]: unknown retry condition 'bogus'; expected connect_failure, reset, "
                        + "timeout, 5xx, gateway_error or a status 400-599");
        assertThat(ConfigErrorsTest.errors(route("retry: { on: [200] }")))
                .containsExactly(AT_RETRY + ".on[0]: status 200 cannot be retried on; expected a status 400-599, 5xx "
                        + "or gateway_error");
    }

    @Test
    void retryTimesBudgetBackoffAndFlags() {
        assertThat(ConfigErrorsTest.errors(route("retry: { per_try_timeout: 0s }")))
                .containsExactly(AT_RETRY + ".per_try_timeout: duration '0s' must be above zero");
        assertThat(ConfigErrorsTest.errors(route("retry: { per_try_timeout: soon }"))).singleElement().asString()
                .startsWith(AT_RETRY + ".per_try_timeout: invalid duration 'soon'");
        assertThat(ConfigErrorsTest.errors(route("retry: { budget: 120% }")))
                .containsExactly(AT_RETRY + ".budget: percentage '120%' is over 100%");
        assertThat(ConfigErrorsTest.errors(route("retry: { budget: 20 }")))
                .containsExactly(AT_RETRY + ".budget: invalid percentage '20'; expected a number and %, such as 20%");
        assertThat(ConfigErrorsTest.errors(route("retry: { backoff: { base: 1s, max: 100ms } }")))
                .containsExactly(AT_RETRY + ".backoff.max: backoff max is shorter than its base");
        assertThat(ConfigErrorsTest.errors(route("retry: { backoff: { bas: 1s } }")))
                .containsExactly(AT_RETRY + ".backoff.bas: unknown key 'bas'; did you mean 'base'?");
        assertThat(ConfigErrorsTest.errors(route("retry: { non_idempotent: maybe }")))
                .containsExactly(AT_RETRY + ".non_idempotent: invalid boolean 'maybe'; expected true or false (also yes/no, on/off)");
        assertThat(ConfigErrorsTest.errors(route("retry: { attemps: 3 }")))
                .containsExactly(AT_RETRY + ".attemps: unknown key 'attemps'; did you mean 'attempts'?");
        assertThat(ConfigErrorsTest.errors(route("retry: 3")))
                .containsExactly(AT_RETRY + ": expected a mapping, found a scalar '3'");
    }

    @Test
    void circuitBreaker() {
        assertThat(ConfigErrorsTest.errors(upstream(", circuit_breaker: { max_requests: -1 }")))
                .containsExactly(AT_UPSTREAM + "circuit_breaker.max_requests: '-1' is out of range; expected 0..10000000");
        assertThat(ConfigErrorsTest.errors(upstream(", circuit_breaker: { max_request: 5 }")))
                .containsExactly(AT_UPSTREAM + "circuit_breaker.max_request: unknown key 'max_request'; did you mean 'max_requests'?");
        assertThat(ConfigErrorsTest.errors(upstream(", circuit_breaker: { max_connections: lots }")))
                .containsExactly(AT_UPSTREAM + "circuit_breaker.max_connections: invalid number 'lots'; expected a whole number 0..10000000");
        assertThat(ConfigErrorsTest.errors(upstream(", circuit_breaker: 5")))
                .containsExactly(AT_UPSTREAM + "circuit_breaker: expected a mapping, found a scalar '5'");
    }

    @Test
    void outlierDetection() {
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: { consecutive_failures: 0 }")))
                .containsExactly(AT_UPSTREAM + "outlier_detection.consecutive_failures: '0' is out of range; expected 1..1000");
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: { ejection_time: 0s }")))
                .containsExactly(AT_UPSTREAM + "outlier_detection.ejection_time: duration '0s' must be above zero");
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: { max_ejected: 150% }")))
                .containsExactly(AT_UPSTREAM + "outlier_detection.max_ejected: percentage '150%' is over 100%");
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: { max_ejected: 50 }")))
                .containsExactly(AT_UPSTREAM + "outlier_detection.max_ejected: invalid percentage '50'; expected a number and %, such as 20%");
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: { consecutive_failure: 3 }")))
                .containsExactly(AT_UPSTREAM + "outlier_detection.consecutive_failure: unknown key 'consecutive_failure'; "
                        + "did you mean 'consecutive_failures'?");
        assertThat(ConfigErrorsTest.errors(upstream(", outlier_detection: true")))
                .containsExactly(AT_UPSTREAM + "outlier_detection: expected a mapping, found a scalar 'true'");
    }

    @Test
    void defaultsAndGoodValues() throws Exception {
        RetryConfig none = parse(route("")).listeners().get(0).routes().get(0).retry();
        assertThat(none.isDefault()).isTrue();
        RetryConfig d = parse(route("retry: {}")).listeners().get(0).routes().get(0).retry();
        assertThat(d.attempts()).isEqualTo(2);
        assertThat(d.on()).containsExactlyInAnyOrder(RetryConfig.Condition.values());
        assertThat(d.statuses()).containsExactlyInAnyOrder(502, 503, 504);
        assertThat(d.perTryTimeout()).isNull();
        assertThat(d.budgetPercent()).isEqualTo(20.0);
        assertThat(d.backoffBase()).isEqualTo(Duration.ofMillis(25));
        assertThat(d.backoffMax()).isEqualTo(Duration.ofMillis(250));
        assertThat(d.nonIdempotent()).isFalse();
        RetryConfig r = parse(route("retry: { attempts: 3, on: [reset, 5xx, 429], per_try_timeout: 2s, budget: 50%, "
                + "non_idempotent: true }")).listeners().get(0).routes().get(0).retry();
        assertThat(r.on()).isEqualTo(Set.of(RetryConfig.Condition.RESET));
        assertThat(r.statuses()).hasSize(101).contains(429, 500, 599);
        assertThat(r.perTryTimeout()).isEqualTo(Duration.ofSeconds(2));
        UpstreamConfig u = parse(upstream(", circuit_breaker: { max_requests: 5 }, outlier_detection: {}"))
                .upstreams().get("backend");
        assertThat(u.circuitBreaker()).isEqualTo(new UpstreamConfig.CircuitBreaker(0, 0, 5));
        assertThat(u.outlierDetection()).isEqualTo(new UpstreamConfig.OutlierDetection(5, Duration.ofSeconds(30), 10.0));
    }
}
