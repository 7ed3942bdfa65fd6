package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** limits.max_connections: the connection over the limit gets a canned 503 and is closed. */
class ConnectionLimitTest {
    @Test
    void thirdConnectionGets503UntilOneCloses() throws Exception {
        try (TestBackend be = TestBackend.start("be");
             TestProxy p = TestProxy.start("""
                     listeners:
                       - name: web
                         bind: 127.0.0.1:0
                         limits: { max_connections: 2 }
                         routes:
                           - match: { path_prefix: / }
                             upstream: be
                     upstreams:
                       be: { endpoints: [%s] }
                     """.formatted(be.address()))) {
            int port = p.port("web");
            try (RawExchange a = new RawExchange(port); RawExchange b = new RawExchange(port)) {
                // a served request on each proves both connections are accepted and counted
                for (RawExchange c : new RawExchange[] {a, b}) {
                    c.write("GET /keep HTTP/1.1\r\nHost: good\r\n\r\n");
                    RawExchange.Result r = c.readResponse(3000);
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.closed()).isFalse();
                }
                be.seen.clear();
                RawExchange.Result third = RawExchange.send(port,
                        "GET /third HTTP/1.1\r\nHost: good\r\n\r\n", 3000);
                assertThat(third.status()).as(third.text()).isEqualTo(503);
                assertThat(third.closed()).isTrue();
                assertThat(third.body()).contains("max_connections");
                assertThat(be.seen).isEmpty();

                // the two first connections are still fine
                b.write("GET /still HTTP/1.1\r\nHost: good\r\n\r\n");
                assertThat(b.readResponse(3000).status()).isEqualTo(200);

                a.close();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                    RawExchange.Result r = RawExchange.send(port,
                            "GET /after HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", 3000);
                    assertThat(r.status()).isEqualTo(200);
                });
                assertThat(be.seen).extracting(TestBackend.Seen::uri).contains("/after").doesNotContain("/third");
            }
        }
    }
}
