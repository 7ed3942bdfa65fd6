package dev.portcullis.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.portcullis.config.TransportKind;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The same proxied exchanges (keep-alive, a body each way) on every transport this machine can load. */
class TransportTest {
    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void proxiesOnEveryTransport(TransportKind kind) throws Exception {
        assumeThat(Transport.loads(kind)).as(kind + " loads").isTrue();
        try (TestBackend be = TestBackend.start("be");
             TestProxy p = TestProxy.start("""
                     transport: %s
                     listeners:
                       - name: web
                         bind: 127.0.0.1:0
                         routes:
                           - match: { path_prefix: / }
                             upstream: be
                     upstreams:
                       be: { endpoints: [%s] }
                     """.formatted(kind.name().toLowerCase(Locale.ROOT), be.address()))) {
            HttpClient c = HttpClient.newHttpClient();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(p.uri("web", "/t" + i))
                        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("be POST /t" + i);
            }
            assertThat(be.seen).hasSize(3).allSatisfy(s -> assertThat(s.body()).hasSize(100_000));
        }
    }
}
