package dev.portcullis.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code POST/DELETE /api/v1/upstreams/{name}/endpoints/{address}/drain}, the upstream view and endpoint metrics. */
class EndpointDrainTest {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> call(TestProxy p, String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(TestProxy p) throws Exception {
        return client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void drainedEndpointFinishesItsRequestAndTakesNoNewOnes() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (TestBackend a = TestBackend.start("a", ex -> {
                 if (ex.getRequestURI().getPath().equals("/slow")) {
                     inside.countDown();
                     try {
                         release.await(10, TimeUnit.SECONDS);
                     } catch (InterruptedException e) {
                         Thread.currentThread().interrupt();
                     }
                 }
                 byte[] out = "a".getBytes();
                 ex.sendResponseHeaders(200, out.length);
                 ex.getResponseBody().write(out);
             });
             TestBackend b = TestBackend.start("b");
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address())) {
            // Round robin starts at a: the slow request is in flight at a while a is drained.
            CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                    HttpRequest.newBuilder(p.uri("web", "/slow")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();

            HttpResponse<String> drained = call(p, "POST", "/api/v1/upstreams/be/endpoints/" + a.address() + "/drain");
            assertThat(drained.statusCode()).isEqualTo(200);
            assertThat(drained.body()).contains("\"health\":\"draining\"", "\"drained\":true", "\"active_requests\":1");

            for (int i = 0; i < 10; i++) {
                assertThat(get(p)).startsWith("b ");
            }
            release.countDown();
            assertThat(slow.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(call(p, "GET", "/api/v1/upstreams").body()).contains("\"health\":\"draining\"");

            HttpResponse<String> back = call(p, "DELETE", "/api/v1/upstreams/be/endpoints/" + a.address() + "/drain");
            assertThat(back.statusCode()).isEqualTo(200);
            assertThat(back.body()).contains("\"health\":\"healthy\"", "\"drained\":false");
            StringBuilder seen = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                seen.append(get(p), 0, 1);
            }
            assertThat(seen.toString()).contains("a", "b");

            String metrics = call(p, "GET", "/metrics").body();
            assertThat(metrics).contains("portcullis_upstream_requests_total{endpoint=\"" + b.address()
                    + "\",status=\"2xx\",upstream=\"be\"}");
            assertThat(metrics).contains("portcullis_upstream_endpoint_healthy{endpoint=\"" + a.address()
                    + "\",upstream=\"be\"} 1.0");
            assertThat(metrics).contains("portcullis_upstream_request_duration_seconds_bucket{endpoint=\"" + a.address());
        }
    }

    @Test
    void unknownUpstreamOrEndpointIs404WithWhatExists() throws Exception {
        try (TestBackend a = TestBackend.start("a"); TestProxy p = TestProxy.toOneUpstream(a.address())) {
            HttpResponse<String> r = call(p, "POST", "/api/v1/upstreams/nope/endpoints/" + a.address() + "/drain");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).contains("no upstream 'nope'", "be");
            r = call(p, "POST", "/api/v1/upstreams/be/endpoints/127.0.0.1:1/drain");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).contains("has no endpoint '127.0.0.1:1'", a.address());
            r = call(p, "GET", "/api/v1/upstreams/be/endpoints/" + a.address() + "/drain");
            assertThat(r.statusCode()).isEqualTo(405);
            assertThat(get(p)).startsWith("a ");
        }
    }

    @Test
    void everyEndpointDrainedAnswers503AndTheStateSurvivesAReload() throws Exception {
        try (TestBackend a = TestBackend.start("a"); TestProxy p = TestProxy.toOneUpstream(a.address())) {
            assertThat(call(p, "POST", "/api/v1/upstreams/be/endpoints/" + a.address() + "/drain").statusCode())
                    .isEqualTo(200);
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("no healthy endpoint in upstream 'be'");
            assertThat(a.seen).isEmpty();
            // a reload that changes the upstream keeps the endpoint's drain
            p.reload("""
                    listeners:
                      - name: web
                        bind: 127.0.0.1:%d
                        routes:
                          - match: { path_prefix: / }
                            upstream: be
                    upstreams:
                      be: { endpoints: [%s], connect_timeout: 3s }
                    """.formatted(p.port("web"), a.address()));
            r = client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
        }
    }
}
