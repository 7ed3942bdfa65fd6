package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.config.ConfigError;
import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway's config: what is read, and what is refused, each error at its key's line and path. Keys in the YAML are
 * never echoed back in an error.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayConfigTest {
    private static final String CONSUMERS = """
            consumers:
              - { name: mobile, api_keys: ["0123456789abcdef0123"], groups: [partners] }
            """;

    /** Consumers, then listener web whose one route has these keys (from line 9 on after {@link #CONSUMERS}). */
    private static String yaml(String consumers, String routeExtra) {
        return consumers + """
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                %s
                upstreams:
                  be: { endpoints: ["127.0.0.1:9001"] }
                """.formatted(routeExtra.indent(8).stripTrailing());
    }

    private static List<String> errors(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "t.yaml", Map.of()));
        assertThat(e).as("expected the config to be refused:\n" + yaml).isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    private static List<String> routeErrors(String routeExtra) {
        return errors(yaml(CONSUMERS, routeExtra));
    }

    @Test
    void aFullGatewayRouteIsRead() throws Exception {
        PortcullisConfig c = ConfigLoader.parse(yaml(CONSUMERS, """
                access: { allow: [127.0.0.0/8], deny: [10.6.6.0/24] }
                auth: { api_key: { header: X-Key, query: key }, groups: [partners], keep_credentials: true }
                rate_limit: { key: "header:X-Tenant", rate: 100/s, burst: 20 }
                cors: { allow_origins: ["HTTPS://App.Example.com", "*"], allow_methods: [get, PUT], allow_headers: [X-Key], max_age: 10m }
                """), "t.yaml", Map.of());
        assertThat(c.consumers()).singleElement().satisfies(k -> {
            assertThat(k.name()).isEqualTo("mobile");
            assertThat(k.groups()).containsExactly("partners");
            assertThat(k.toString()).doesNotContain("0123456789abcdef0123");
        });
        GatewayConfig g = c.listeners().get(0).routes().get(0).gateway();
        assertThat(g.access().allow()).hasSize(1);
        assertThat(g.auth().methods()).containsExactly(new GatewayConfig.ApiKey("X-Key", "key"));
        assertThat(g.auth().groups()).containsExactly("partners");
        assertThat(g.auth().keepCredentials()).isTrue();
        assertThat(g.rateLimit()).isEqualTo(new GatewayConfig.RateLimit(new GatewayConfig.Header("X-Tenant"), 100,
                Duration.ofSeconds(1), 20, GatewayConfig.RateLimit.Store.LOCAL));
        assertThat(g.cors().allowOrigins()).containsExactly("https://app.example.com", "*");
        assertThat(g.cors().allowMethods()).containsExactly("GET", "PUT");
        assertThat(g.cors().allowHeaders()).containsExactly("x-key");
        assertThat(g.cors().maxAge()).isEqualTo(Duration.ofMinutes(10));
        // defaults: the rate's count is the burst, only a query parameter means no header
        GatewayConfig d = ConfigLoader.parse(yaml(CONSUMERS, "auth: { api_key: { query: k } }\nrate_limit: { rate: "
                + "7/h }"), "t.yaml", Map.of()).listeners().get(0).routes().get(0).gateway();
        assertThat(d.auth().methods()).containsExactly(new GatewayConfig.ApiKey(null, "k"));
        assertThat(d.rateLimit()).isEqualTo(new GatewayConfig.RateLimit(new GatewayConfig.ClientIp(), 7,
                Duration.ofHours(1), 7, GatewayConfig.RateLimit.Store.LOCAL));
    }

    @Test
    void authNeedsOneMethodAndKeysToCheck() {
        assertThat(routeErrors("auth: { groups: [partners] }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth: 'auth' needs a method: api_key, basic, jwt or any_of");
        assertThat(routeErrors("auth: { api_key: {}, basic: { htpasswd: /etc/passwd } }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth: give one method (api_key, basic or jwt), or several under "
                        + "any_of");
        assertThat(routeErrors("auth: { api_key: {}, any_of: [ { api_key: {} } ] }")).singleElement().asString()
                .contains("listeners[0].routes[0].auth.any_of: give either one method");
        assertThat(routeErrors("auth: { any_of: [] }")).singleElement().asString()
                .contains("auth.any_of: any_of needs at least one method");
        assertThat(routeErrors("auth: { any_of: [ { api_key: {}, basic: { htpasswd: /etc/passwd } } ] }"))
                .singleElement().asString()
                .contains("listeners[0].routes[0].auth.any_of[0]: each any_of entry is one method");
        // api_key with no consumer that has a key: with none at all, and with one whose variable is unset
        assertThat(errors(yaml("", "auth: { api_key: {} }"))).containsExactly(
                "t.yaml:7: listeners[0].routes[0].auth: auth.api_key needs consumers with api_keys (top-level "
                        + "'consumers'); none has a key");
        assertThat(errors(yaml("consumers: [ { name: app, api_keys: [\"${APP_KEY:-}\"] } ]\n",
                "auth: { any_of: [ { basic: { htpasswd: /etc/passwd } }, { api_key: {} } ] }")))
                .singleElement().asString().startsWith("t.yaml:8: listeners[0].routes[0].auth: auth.api_key needs "
                        + "consumers with api_keys").endsWith("(an unset ${VAR:-} leaves a key out)");
    }

    @Test
    void groupsNeedMembersAndBasicNeedsAFile() {
        assertThat(routeErrors("auth: { api_key: {}, groups: [partners, partnerz] }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth.groups[1]: no consumer is in group 'partnerz'; did you mean "
                        + "'partners'?");
        assertThat(routeErrors("auth: { api_key: {}, groups: [ops] }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth.groups[0]: no consumer is in group 'ops'; groups in use: "
                        + "partners");
        assertThat(routeErrors("auth: { basic: { realm: x } }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth.basic: missing required key 'htpasswd'");
        assertThat(routeErrors("auth: { basic: { htpasswd: /no/such/users.htpasswd } }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth.basic.htpasswd: file not found: /no/such/users.htpasswd");
        assertThat(routeErrors("auth: { basic: { htpasswd: /etc/passwd, realm: 'a\"b' } }")).singleElement()
                .asString().contains("auth.basic.realm: a realm may not contain");
    }

    @Test
    void jwtNeedsKeysAndARedisStoreNeedsRedis() {
        assertThat(routeErrors("auth: { jwt: { issuer: x } }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].auth.jwt: 'jwt' needs 'jwks' (a URL or a file) or 'secret'");
        assertThat(routeErrors("auth: { any_of: [ { api_key: {} }, { jwt: { secret: short } } ] }")).singleElement()
                .asString().contains("auth.any_of[1].jwt.secret: an HMAC secret must be at least 32 bytes");
        assertThat(routeErrors("rate_limit: { rate: 10/s, store: redis }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].rate_limit.store: store 'redis' needs the top-level 'redis' (url or "
                        + "cluster); without it use store: local");
        assertThat(routeErrors("rate_limit: { rate: 10/s, on_redis_error: deny }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].rate_limit.on_redis_error: 'on_redis_error' applies only with "
                        + "store: redis");
        assertThat(errors(yaml("""
                consumers:
                  - { name: mobile, api_keys: ["0123456789abcdef0123"], rate_limit: { rate: 5/s, key: route }, quota: {} }
                """, ""))).containsExactly(
                "t.yaml:2: consumers[0].quota: 'quota' is not supported in this version yet",
                "t.yaml:2: consumers[0].rate_limit.key: unknown key 'key'; expected one of: rate, burst");
    }

    @Test
    void rateLimitsNeedAValidRateAndKey() {
        assertThat(routeErrors("rate_limit: { rate: 5/x }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].rate_limit.rate: invalid rate '5/x'; the period is s, m, h or d "
                        + "(100/s, 1000/m)");
        assertThat(routeErrors("rate_limit: { rate: fast }")).singleElement().asString()
                .contains("rate_limit.rate: invalid rate 'fast'; expected N/s, N/m, N/h or N/d");
        assertThat(routeErrors("rate_limit: { rate: 0/s }")).singleElement().asString()
                .contains("rate_limit.rate: invalid rate '0/s'; the count is 1 to 1000000000");
        assertThat(routeErrors("rate_limit: { burst: 5 }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].rate_limit: missing required key 'rate'");
        assertThat(routeErrors("rate_limit: { rate: 5/s, burst: 0 }")).singleElement().asString()
                .contains("rate_limit.burst: '0' is out of range");
        assertThat(routeErrors("rate_limit: { rate: 5/s, key: user }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].rate_limit.key: unknown key 'user'; expected client_ip, consumer, "
                        + "route or header:NAME");
        assertThat(routeErrors("rate_limit: { rate: 5/s, key: \"header:bad header\" }")).singleElement()
                .asString().contains("rate_limit.key: invalid header name 'bad header'");
    }

    @Test
    void corsAndAccessAreChecked() {
        assertThat(routeErrors("cors: { allow_origins: [\"*\"], allow_credentials: true }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].cors.allow_credentials: allow_credentials cannot be used with "
                        + "allow_origins '*' (the Fetch standard forbids it); list the origins");
        assertThat(routeErrors("cors: { allow_origins: [\"https://app.example.com/path\"] }")).singleElement()
                .asString().contains("cors.allow_origins[0]: invalid origin 'https://app.example.com/path'");
        assertThat(routeErrors("cors: { allow_methods: [GET] }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].cors: missing required key 'allow_origins'");
        assertThat(routeErrors("access: { allow: [] }")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].access.allow: an empty allow list would refuse everyone; leave the "
                        + "key out to allow all that deny does not name");
        assertThat(routeErrors("access: {}")).containsExactly(
                "t.yaml:9: listeners[0].routes[0].access: 'access' needs 'allow' or 'deny'");
        assertThat(routeErrors("access: { deny: [10.0.0.0/33] }")).singleElement().asString()
                .contains("listeners[0].routes[0].access.deny[0]:");
    }

    @Test
    void aMistakeInTheListenersDefaultsIsReportedOnce() {
        assertThat(errors(CONSUMERS + """
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    defaults:
                      upstream: be
                      auth: { api_key: {}, groups: [partnerz] }
                      rate_limit: { rate: 5/x }
                    routes:
                      - match: { path_prefix: /a }
                      - match: { path_prefix: /b }
                upstreams:
                  be: { endpoints: ["127.0.0.1:9001"] }
                """)).containsExactly(
                "t.yaml:8: listeners[0].defaults.auth.groups[0]: no consumer is in group 'partnerz'; did you mean "
                        + "'partners'?",
                "t.yaml:9: listeners[0].defaults.rate_limit.rate: invalid rate '5/x'; the period is s, m, h or d "
                        + "(100/s, 1000/m)");
        assertThat(errors("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    defaults: { upstream: be, auth: { api_key: {} } }
                    routes: [ { match: { path_prefix: /a } }, { match: { path_prefix: /b } } ]
                upstreams:
                  be: { endpoints: ["127.0.0.1:9001"] }
                """)).containsExactly("t.yaml:4: listeners[0].defaults.auth: auth.api_key needs consumers with "
                + "api_keys (top-level 'consumers'); none has a key");
    }

    @Test
    void apiKeysAreLongUniqueAndNeverEchoed() {
        List<String> shortKey = errors(yaml("""
                consumers:
                  - { name: mobile, api_keys: ["short-key-123"] }
                """, ""));
        assertThat(shortKey).containsExactly("t.yaml:2: consumers[0].api_keys[0]: an API key is 16 to 4096 "
                + "printable ASCII characters without spaces (for example 'openssl rand -hex 24')");
        assertThat(errors(yaml("consumers:\n  - { name: m, api_keys: [\"0123456789 abcdef0123\"] }\n", "")))
                .singleElement().asString().contains("consumers[0].api_keys[0]: an API key is 16 to 4096")
                .doesNotContain("0123456789");
        List<String> duplicate = errors(yaml("""
                consumers:
                  - { name: mobile, api_keys: ["0123456789abcdef0123"] }
                  - { name: web, api_keys: ["aaaaaaaaaaaaaaaaaaaa", "0123456789abcdef0123"] }
                """, ""));
        assertThat(duplicate).containsExactly("t.yaml:3: consumers[1].api_keys[1]: this API key is also a key of "
                + "consumer 'mobile'; each key names one consumer");
        assertThat(String.join("\n", shortKey) + String.join("\n", duplicate))
                .doesNotContain("short-key-123", "0123456789abcdef0123");
        assertThat(errors(yaml("""
                consumers:
                  - { name: mobile, api_keys: ["0123456789abcdef0123"] }
                  - { name: mobile }
                  - { name: "bad name" }
                """, ""))).containsExactly(
                "t.yaml:3: consumers[1].name: duplicate consumer name 'mobile'",
                "t.yaml:4: consumers[2].name: invalid consumer name 'bad name'; use letters, digits, '_', '.' and "
                        + "'-'");
    }

    @Test
    void anUnusableHtpasswdFileStopsTheStart() throws Exception {
        Path users = Files.createTempFile("gateway-users", ".htpasswd");
        Files.writeString(users, "alice:{SHA}not-a-hash-I-know\nbroken line\n");
        try (TestBackend be = TestBackend.start("be")) {
            ConfigException e = catchThrowableOfType(ConfigException.class, () -> TestProxy.start(
                    TestProxy.oneRouteYaml("", be.address(), "", "auth: { basic: { htpasswd: " + users + " } }"))
                    .close());
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).contains(users.toString(), "auth.basic.htpasswd");
        } finally {
            Files.deleteIfExists(users);
        }
    }
}
