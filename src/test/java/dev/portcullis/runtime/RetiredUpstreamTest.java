package dev.portcullis.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A reload that replaces an endpoint closes its idle pooled connections at once; one that changes an upstream's
 * other settings keeps the pooled connections of its unchanged endpoints.
 */
class RetiredUpstreamTest {
    private static final String YAML = """
            listeners:
              - name: web
                bind: 127.0.0.1:0
                routes:
                  - match: { path_prefix: / }
                    upstream: be
            upstreams:
              be:
                endpoints: [{ address: %s, weight: %d }]
                keepalive: { max_idle_per_endpoint: 8, idle_timeout: %s }
            """;

    @Test
    void idleConnectionsOfAReplacedUpstreamAreClosedOnReload() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        try (RawBackend be = RawBackend.start((self, in, out) -> {
            while (Wire.readRequest(in) != null) {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            closed.incrementAndGet();
        }); TestProxy p = TestProxy.start(YAML.formatted(be.address(), 1, "60s"))) {
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(be.accepted.get()).isEqualTo(1);
            Thread.sleep(200);
            assertThat(closed.get()).as("pooled, still open").isZero();

            ReloadOutcome outcome = p.reload(YAML.formatted(be.address(), 1, "90s"));
            assertThat(outcome).isInstanceOf(ReloadOutcome.Applied.class);
            r = client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(be.accepted.get()).as("same endpoint, pooled connection reused").isEqualTo(1);
            assertThat(closed.get()).isZero();

            outcome = p.reload(YAML.formatted(be.address(), 2, "90s"));
            assertThat(outcome).isInstanceOf(ReloadOutcome.Applied.class);
            await().atMost(Duration.ofSeconds(3)).until(() -> closed.get() == 1);

            r = client.send(HttpRequest.newBuilder(p.uri("web", "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(be.accepted.get()).isEqualTo(2);
        }
    }
}
