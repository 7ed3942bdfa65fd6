package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void proxiesAndRotates() throws Exception {
        try (TestBackend a = TestBackend.start("a"); TestBackend b = TestBackend.start("b");
             TestProxy p = TestProxy.toOneUpstream(a.address() + ", " + b.address())) {
            HttpClient c = HttpClient.newHttpClient();
            String first = c.send(HttpRequest.newBuilder(p.uri("web", "/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            String second = c.send(HttpRequest.newBuilder(p.uri("web", "/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(first + "|" + second).contains("a GET /x").contains("b GET /x");
            TestBackend.Seen seen = a.seen.peek();
            assertThat(seen.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
            assertThat(seen.header("Via")).isEqualTo("1.1 portcullis");
            assertThat(seen.header("X-Request-Id")).hasSize(32);
        }
    }
}
