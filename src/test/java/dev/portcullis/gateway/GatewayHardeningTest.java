package dev.portcullis.gateway;

import static dev.portcullis.gateway.Gw.MOBILE_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ways around the gateway's checks that a review found, each closed: a key hidden behind a ';', credentials of
 * another method riding along with good ones, two Authorization headers, a key in the query of a request refused
 * before authentication reaching the log, and the configs that would quietly not do what they say.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayHardeningTest {
    private static TestBackend be;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        be = TestBackend.start("be");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @BeforeEach
    void clear() {
        be.seen.clear();
    }

    @Test
    void aSemicolonIsNotAQuerySeparatorSoNoKeyHidesBehindIt() throws Exception {
        try (TestProxy p = Gw.proxy(be, "auth: { api_key: { query: api_key } }")) {
            Gw.assertJsonError(Gw.get(p.port("web"), "/q?x=1;api_key=" + MOBILE_KEY, ""), 401, "no credentials");
            assertThat(Gw.get(p.port("web"), "/q?x=1;y&api_key=" + MOBILE_KEY, "").status()).isEqualTo(200);
            assertThat(be.seen.poll().uri()).isEqualTo("/q?x=1;y");
        }
    }

    @Test
    void credentialsOfEveryMethodAreRemovedNotOnlyTheOnesChecked() throws Exception {
        Path users = Gw.htpasswd("alice", "secret");
        try (TestProxy p = Gw.proxy(be, "auth: { any_of: [ { api_key: {} }, { basic: { htpasswd: '" + users
                + "' } } ] }")) {
            int port = p.port("web");
            assertThat(Gw.get(port, "/both", "X-API-Key: " + MOBILE_KEY + "\r\nAuthorization: "
                    + Gw.basic("admin", "forged") + "\r\n").status()).isEqualTo(200);
            TestBackend.Seen seen = be.seen.poll();
            assertThat(seen.header("Authorization")).isNull();
            assertThat(seen.header("X-API-Key")).isNull();
            // two Authorization headers: which one would the upstream believe? Neither.
            Gw.assertJsonError(Gw.get(port, "/two", "Authorization: " + Gw.basic("alice", "secret")
                    + "\r\nAuthorization: " + Gw.basic("admin", "x") + "\r\n"), 401, "send one Authorization header");
            assertThat(be.seen).isEmpty();
        }
    }

    @Test
    void aQueryKeyOfARequestRefusedForItsAddressIsMaskedInTheLog() throws Exception {
        Path log = dir.resolve("access.log");
        try (TestProxy p = TestProxy.start("access_log: { path: '" + log + "', format: json }\n"
                + TestProxy.oneRouteYaml(Gw.CONSUMERS, be.address(), "",
                "access: { allow: [10.0.0.0/8] }\nauth: { api_key: { query: api_key } }"))) {
            Gw.assertJsonError(Gw.get(p.port("web"), "/a?api_key=" + MOBILE_KEY + "&b=2", ""), 403, "access");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log)
                    && !Files.readString(log).isEmpty());
            String line = Files.readString(log);
            assertThat(line).doesNotContain(MOBILE_KEY).contains("api_key=******");
        }
    }

    @Test
    void configsThatWouldNotDoWhatTheySayAreRefused() {
        assertThatThrownBy(() -> Gw.proxy(be, "auth: { api_key: {} }\nrate_limit: { key: 'header:X-API-Key', "
                + "rate: 5/s }")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("rate_limit.key: header X-API-Key carries the credentials");
        assertThatThrownBy(() -> Gw.proxy(be, "rate_limit: { key: consumer, rate: 5/s }"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("rate_limit.key: key 'consumer' needs 'auth' on the route");
        assertThatThrownBy(() -> TestProxy.start("caches: { c: { memory: 1MiB } }\n" + TestProxy.oneRouteYaml(
                Gw.CONSUMERS, be.address(), "", "auth: { api_key: {} }\ncache: c")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'cache' cannot be combined with 'auth'");
    }
}
