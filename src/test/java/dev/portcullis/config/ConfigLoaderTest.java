package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    static final String FULL = """
            workers: 4
            transport: nio
            shutdown_timeout: 10s
            admin:
              bind: 127.0.0.1:9902
              token: s3cret
            access_log:
              path: /var/log/portcullis.log
              format: '{client.ip} "{request.line}" {response.status} {duration.ms}ms'
            listeners:
              - name: web
                bind: 0.0.0.0:8080
                protocol: http
                mode: reverse
                limits:
                  max_connections: 100000
                  header_read_timeout: 5s
                  idle_timeout: 2m
                  max_header_size: 16KiB
                  max_request_line: 4k
                  max_body_size: 1GiB
                defaults:
                  timeout: 30s
                  headers:
                    response: { remove: [Server] }
                routes:
                  - name: seed-nginx-example
                    match: { path_prefix: / }
                    headers:
                      request:
                        set: { Host: "{request.host}", X-Real-IP: "{client.ip}" }
                    upstream: backend
                  - name: api
                    match:
                      host: [API.example.com, "*.api.example.com"]
                      path_regex: ^/users/[0-9]+$
                      methods: [get, POST]
                      headers: { X-Canary: "true" }
                      query: { debug: 1 }
                      source: [10.0.0.0/8, 192.168.1.1, "::1"]
                    rewrite: { strip_prefix: /v1, add_prefix: /api, regex: { pattern: "^/old/(.*)", replace: "/new/$1" } }
                    headers:
                      request: { set: { X-Request-Id: "{request.id}" }, add: { Via: portcullis }, remove: [Cookie] }
                      response: { set: { Strict-Transport-Security: max-age=31536000 }, remove: [Server] }
                    timeout: 2s
                    upstream: api-v1
                  - match: { path: /old }
                    redirect: { to: "https://{request.host}{request.uri}", status: 301 }
                  - match: { host: health.example.com }
                    respond: { status: 200, body: "ok\\n", headers: { Content-Type: text/plain } }
              - name: other
                bind: "[::1]:0"
                routes:
                  - redirect: { to: /elsewhere }
            upstreams:
              backend:
                endpoints: [127.0.0.1:9001, 127.0.0.1:9002]
              api-v1:
                endpoints:
                  - { address: 127.0.0.1:9001, weight: 3 }
                  - { address: api2.internal:8080, weight: 1 }
                  - { address: "[::1]:8080", backup: yes }
                balance: round_robin
                connect_timeout: 2s
                keepalive: { max_idle_per_endpoint: 0, idle_timeout: 90s }
            """;

    static PortcullisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "t.yaml", Map.of());
    }

    @Test
    void fullConfigBecomesTheExpectedRecords() throws Exception {
        PortcullisConfig c = parse(FULL);
        assertThat(c.source()).isNull();
        assertThat(c.workers()).isEqualTo(4);
        assertThat(c.transport()).isEqualTo(TransportKind.NIO);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9902), "s3cret"));
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig("/var/log/portcullis.log",
                new AccessLogConfig.LogFormat.Template("{client.ip} \"{request.line}\" {response.status} {duration.ms}ms")));

        assertThat(c.listeners()).hasSize(2);
        ListenerConfig web = c.listeners().get(0);
        assertThat(web.name()).isEqualTo("web");
        assertThat(web.bind()).isEqualTo(new HostPort("0.0.0.0", 8080));
        assertThat(web.protocol()).isEqualTo(ListenerConfig.Protocol.HTTP);
        assertThat(web.mode()).isEqualTo(ListenerConfig.Mode.REVERSE);
        assertThat(web.limits()).isEqualTo(new ListenerLimits(100_000, Duration.ofSeconds(5), Duration.ofMinutes(2),
                16 * 1024, 4096, 1L << 30));

        HeadersConfig.HeaderOps removeServer = new HeadersConfig.HeaderOps(Map.of(), Map.of(), List.of("Server"));
        RouteConfig seed = web.routes().get(0);
        assertThat(seed).isEqualTo(new RouteConfig("seed-nginx-example",
                new MatchConfig(List.of(), null, "/", null, List.of(), Map.of(), Map.of(), List.of()),
                new HeadersConfig(new HeadersConfig.HeaderOps(Map.of("Host", "{request.host}", "X-Real-IP", "{client.ip}"), Map.of(), List.of()),
                        HeadersConfig.HeaderOps.NONE),
                null, new RouteAction.Proxy("backend"), Duration.ofSeconds(30), RetryConfig.DEFAULT, null, null, null));
        assertThat(seed.headers().request().set().keySet()).containsExactly("Host", "X-Real-IP");

        RouteConfig api = web.routes().get(1);
        assertThat(api.name()).isEqualTo("api");
        assertThat(api.match()).isEqualTo(new MatchConfig(List.of("api.example.com", "*.api.example.com"), null, null,
                "^/users/[0-9]+$", List.of("GET", "POST"), Map.of("X-Canary", "true"), Map.of("debug", "1"),
                List.of("10.0.0.0/8", "192.168.1.1/32", "::1/128")));
        assertThat(api.rewrite()).isEqualTo(new RewriteConfig("/v1", "/api", "^/old/(.*)", "/new/$1"));
        assertThat(api.headers()).isEqualTo(new HeadersConfig(
                new HeadersConfig.HeaderOps(Map.of("X-Request-Id", "{request.id}"), Map.of("Via", "portcullis"), List.of("Cookie")),
                new HeadersConfig.HeaderOps(Map.of("Strict-Transport-Security", "max-age=31536000"), Map.of(), List.of("Server"))));
        assertThat(api.action()).isEqualTo(new RouteAction.Proxy("api-v1"));
        assertThat(api.timeout()).isEqualTo(Duration.ofSeconds(2));

        RouteConfig redirect = web.routes().get(2);
        assertThat(redirect.name()).isEqualTo("web-2");
        assertThat(redirect.match().path()).isEqualTo("/old");
        assertThat(redirect.headers()).isEqualTo(new HeadersConfig(HeadersConfig.HeaderOps.NONE, removeServer));
        assertThat(redirect.action()).isEqualTo(new RouteAction.Redirect("https://{request.host}{request.uri}", 301));

        RouteConfig respond = web.routes().get(3);
        assertThat(respond.name()).isEqualTo("web-3");
        assertThat(respond.match().hosts()).containsExactly("health.example.com");
        assertThat(respond.action()).isEqualTo(new RouteAction.Respond(200, "ok\n", Map.of("Content-Type", "text/plain")));

        ListenerConfig other = c.listeners().get(1);
        assertThat(other.bind()).isEqualTo(new HostPort("::1", 0));
        assertThat(other.limits()).isEqualTo(ListenerLimits.DEFAULTS);
        assertThat(other.routes()).containsExactly(new RouteConfig("other-0", MatchConfig.ANY, HeadersConfig.NONE, null,
                new RouteAction.Redirect("/elsewhere", 302), null, RetryConfig.DEFAULT, null, null, null));

        assertThat(c.upstreams().keySet()).containsExactly("backend", "api-v1");
        assertThat(c.upstreams().get("backend")).isEqualTo(new UpstreamConfig("backend", List.of(
                new UpstreamConfig.EndpointConfig(new HostPort("127.0.0.1", 9001), 1, false),
                new UpstreamConfig.EndpointConfig(new HostPort("127.0.0.1", 9002), 1, false)),
                UpstreamConfig.Balance.ROUND_ROBIN, null, UpstreamConfig.HashMethod.MAGLEV, null, null, null, null,
                Duration.ZERO, UpstreamConfig.CircuitBreaker.UNLIMITED, UpstreamConfig.DEFAULT_PANIC_THRESHOLD,
                UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, UpstreamConfig.Keepalive.DEFAULTS));
        assertThat(c.upstreams().get("api-v1")).isEqualTo(new UpstreamConfig("api-v1", List.of(
                new UpstreamConfig.EndpointConfig(new HostPort("127.0.0.1", 9001), 3, false),
                new UpstreamConfig.EndpointConfig(new HostPort("api2.internal", 8080), 1, false),
                new UpstreamConfig.EndpointConfig(new HostPort("::1", 8080), 1, true)),
                UpstreamConfig.Balance.ROUND_ROBIN, null, UpstreamConfig.HashMethod.MAGLEV, null, null, null, null,
                Duration.ZERO, UpstreamConfig.CircuitBreaker.UNLIMITED, UpstreamConfig.DEFAULT_PANIC_THRESHOLD,
                Duration.ofSeconds(2), new UpstreamConfig.Keepalive(0, Duration.ofSeconds(90))));
    }

    @Test
    void defaultsWhenOnlyTheRequiredKeysAreGiven() throws Exception {
        PortcullisConfig c = parse("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes: [ { respond: { status: 204 } } ]
                """);
        assertThat(c.workers()).isZero();
        assertThat(c.transport()).isEqualTo(TransportKind.AUTO);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9901), ""));
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig("stdout", new AccessLogConfig.LogFormat.Json()));
        assertThat(c.upstreams()).isEmpty();
        assertThat(c.listeners().get(0).routes().get(0).action()).isEqualTo(new RouteAction.Respond(204, "", Map.of()));
    }

    @Test
    void rawKeepsTheSubstitutedTreeInFileOrder() throws Exception {
        PortcullisConfig c = ConfigLoader.parse("""
                workers: auto
                admin: { token: "${TOKEN}" }
                listeners:
                  - { name: web, bind: "127.0.0.1:8080", routes: [ { upstream: b } ] }
                upstreams:
                  b: { endpoints: [127.0.0.1:1], keepalive: { max_idle_per_endpoint: 8 } }
                """, "t.yaml", Map.of("TOKEN", "abc"));
        assertThat(c.raw().keySet()).containsExactly("workers", "admin", "listeners", "upstreams");
        assertThat(c.raw().get("admin")).isEqualTo(Map.of("token", "abc"));
        assertThat(c.raw().get("listeners")).isEqualTo(List.of(Map.of("name", "web", "bind", "127.0.0.1:8080",
                "routes", List.of(Map.of("upstream", "b")))));
        @SuppressWarnings("unchecked")
        Map<String, Object> b = (Map<String, Object>) ((Map<String, Object>) c.raw().get("upstreams")).get("b");
        assertThat(b.get("keepalive")).isEqualTo(Map.of("max_idle_per_endpoint", 8L));
        assertThat(c.admin().token()).isEqualTo("abc");
    }

    @Test
    void mapsKeepFileOrderAndCollectionsAreImmutable() throws Exception {
        PortcullisConfig c = parse(FULL);
        RouteConfig api = c.listeners().get(0).routes().get(1);
        assertThat(api.headers().response().set().keySet()).containsExactly("Strict-Transport-Security");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.listeners().add(null))
                .isInstanceOf(UnsupportedOperationException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.upstreams().clear())
                .isInstanceOf(UnsupportedOperationException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.match().headers().clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void booleanSpellingsAndKeywordOff() throws Exception {
        for (String off : new String[] {"off", "false", "no", "OFF"}) {
            PortcullisConfig c = parse("""
                    access_log: { path: %s, format: combined }
                    listeners: [ { name: w, bind: "127.0.0.1:0", routes: [ { respond: { status: 200 } } ] } ]
                    """.formatted(off));
            assertThat(c.accessLog().path()).as(off).isEqualTo("off");
            assertThat(c.accessLog().enabled()).isFalse();
            assertThat(c.accessLog().format()).isEqualTo(new AccessLogConfig.LogFormat.Combined());
        }
        PortcullisConfig quoted = parse("""
                access_log: { path: "stderr" }
                listeners: [ { name: w, bind: "127.0.0.1:0", routes: [ { respond: { status: 200 } } ] } ]
                upstreams:
                  u: { endpoints: [ { address: "127.0.0.1:1" }, { address: "127.0.0.1:2", backup: on } ] }
                """);
        assertThat(quoted.accessLog().path()).isEqualTo("stderr");
        assertThat(quoted.upstreams().get("u").endpoints().get(1).backup()).isTrue();
    }
}
