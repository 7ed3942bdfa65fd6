package dev.portcullis.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.config.AdminConfig;
import dev.portcullis.config.HostPort;
import dev.portcullis.config.TransportKind;
import dev.portcullis.net.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
    private static final Transport TRANSPORT = Transport.select(TransportKind.AUTO);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final TestContext context = new TestContext();
    private AdminServer server;

    private AdminServer start(String token) {
        server = new AdminServer(new AdminConfig(new HostPort("127.0.0.1", 0), token), context, TRANSPORT);
        server.start();
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private HttpResponse<String> call(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.boundAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("")
                        : HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return call("GET", path, null);
    }

    @Test
    void healthAndReadiness() throws Exception {
        start("");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/healthz").body()).isEqualTo("ok\n");
        assertThat(get("/readyz").body()).isEqualTo("ready\n");
        context.ready = false;
        HttpResponse<String> r = get("/readyz");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("not ready\n");
    }

    @Test
    void metricsInPrometheusTextFormat() throws Exception {
        start(null);
        context.metrics.route("web", "api", "backend").record(200, 1_000_000);
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body())
                .contains("portcullis_requests_total{listener=\"web\",route=\"api\",status=\"2xx\",upstream=\"backend\"} 1.0")
                .contains("portcullis_request_duration_seconds_bucket{")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void configIsMasked() throws Exception {
        start(null);
        Map<String, Object> admin = new LinkedHashMap<>();
        admin.put("bind", "127.0.0.1:9901");
        admin.put("token", "s3cret");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("admin", admin);
        cfg.put("redis", Map.of("url", "redis://user:pa55@10.0.0.1:6379"));
        cfg.put("consumers", List.of(Map.of("name", "mobile", "api_keys", List.of("k1", "k2"))));
        cfg.put("auth", Map.of("basic", Map.of("htpasswd", "users.htpasswd"), "password", "pw"));
        cfg.put("listeners", List.of(Map.of("name", "web", "port", 8080, "tls", true)));
        context.config = cfg;

        HttpResponse<String> r = get("/api/v1/config");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body())
                .startsWith("{\"admin\":{\"bind\":\"127.0.0.1:9901\",\"token\":\"******\"}")
                .contains("\"url\":\"******\"", "\"api_keys\":\"******\"", "\"htpasswd\":\"******\"",
                        "\"password\":\"******\"", "\"port\":8080", "\"tls\":true", "\"name\":\"mobile\"")
                .doesNotContain("s3cret", "pa55", "k1", "users.htpasswd", "\"pw\"");
    }

    @Test
    void upstreams() throws Exception {
        start(null);
        context.upstreams = List.of(new UpstreamView("backend", "round_robin", false, 1, 4, 0, 3, List.of(
                new EndpointView("127.0.0.1:9001", 1, 100, false, "healthy", true, 3, 0, 0, 0, null, false, 100),
                new EndpointView("127.0.0.1:9002", 2, 200, true, "ejected", false, 0, 7, 0, 1, 1700000000000L, false,
                        100))));
        HttpResponse<String> r = get("/api/v1/upstreams");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"upstreams\":[{\"name\":\"backend\",\"balance\":\"round_robin\","
                + "\"panic\":false,\"active_endpoints\":1,\"connections\":4,\"pending\":0,\"active_requests\":3,"
                + "\"endpoints\":["
                + "{\"address\":\"127.0.0.1:9001\",\"weight\":1,\"effective_weight\":100,\"backup\":false,"
                + "\"health\":\"healthy\",\"checked\":true,\"active_requests\":3,\"failures\":0,"
                + "\"consecutive_failures\":0,\"ejections\":0,\"ejected_until\":null,\"drained\":false,"
                + "\"agent_weight_percent\":100},"
                + "{\"address\":\"127.0.0.1:9002\",\"weight\":2,\"effective_weight\":200,\"backup\":true,"
                + "\"health\":\"ejected\",\"checked\":false,\"active_requests\":0,\"failures\":7,"
                + "\"consecutive_failures\":0,\"ejections\":1,\"ejected_until\":\"2023-11-14T22:13:20Z\","
                + "\"drained\":false,\"agent_weight_percent\":100}]}]}");
    }

    @Test
    void reloadAppliedAndRefusedRunOffTheEventLoop() throws Exception {
        start(null);
        context.reload = () -> new ReloadOutcome.Applied("2 routes changed");
        HttpResponse<String> ok = call("POST", "/api/v1/reload", null);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("{\"status\":\"reloaded\",\"summary\":\"2 routes changed\"}");
        assertThat(context.reloadThread.get()).startsWith("portcullis-admin-reload");

        context.reload = () -> new ReloadOutcome.Refused(List.of("p.yaml:3: routes[0].upstream: no upstream \"x\""));
        HttpResponse<String> refused = call("POST", "/api/v1/reload", null);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body())
                .isEqualTo("{\"status\":\"refused\",\"errors\":[\"p.yaml:3: routes[0].upstream: no upstream \\\"x\\\"\"]}");

        context.reload = () -> {
            throw new IllegalStateException("boom");
        };
        assertThat(call("POST", "/api/v1/reload", null).statusCode()).isEqualTo(500);
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void unknownPathAndWrongMethod() throws Exception {
        start(null);
        HttpResponse<String> r = get("/nope");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body()).contains("\"error\"");

        HttpResponse<String> m = call("POST", "/healthz", null);
        assertThat(m.statusCode()).isEqualTo(405);
        assertThat(m.headers().firstValue("allow")).hasValue("GET, HEAD");

        HttpResponse<String> g = get("/api/v1/reload");
        assertThat(g.statusCode()).isEqualTo(405);
        assertThat(g.headers().firstValue("allow")).hasValue("POST");

        assertThat(call("HEAD", "/healthz", null).statusCode()).isEqualTo(200);
    }

    @Test
    void tokenGuardsEverythingButHealthzAndTheDashboard() throws Exception {
        start("t0ken");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/").statusCode()).isEqualTo(200);
        for (String path : List.of("/readyz", "/metrics", "/api/v1/config", "/api/v1/upstreams", "/nope")) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("www-authenticate")).as(path).hasValueSatisfying(
                    v -> assertThat(v).startsWith("Bearer"));
            assertThat(call("GET", path, "wrong").statusCode()).as(path).isEqualTo(401);
        }
        assertThat(call("POST", "/api/v1/reload", null).statusCode()).isEqualTo(401);
        assertThat(context.reloadThread.get()).isNull();

        assertThat(call("GET", "/readyz", "t0ken").statusCode()).isEqualTo(200);
        assertThat(call("GET", "/metrics", "t0ken").statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/upstreams", "t0ken").statusCode()).isEqualTo(200);
        assertThat(call("GET", "/nope", "t0ken").statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/reload", "t0ken").statusCode()).isEqualTo(200);
    }

    @Test
    void dashboardIsSelfContained() throws Exception {
        start("t0ken");
        HttpResponse<String> r = get("/?token=t0ken");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(r.body())
                .contains("/api/v1/upstreams", "sessionStorage", "Authorization", "Bearer", "2000")
                .doesNotContain("src=\"http", "href=\"http", "t0ken");
    }

    @Test
    void bindFailureNamesTheAddress() throws Exception {
        start(null);
        int port = server.boundAddress().getPort();
        AdminServer second = new AdminServer(new AdminConfig(new HostPort("127.0.0.1", port), ""), context, TRANSPORT);
        assertThatThrownBy(second::start)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("is another process using it? change admin.bind");
    }
}
