package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.FlatJson;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log as written by a running proxy, end to end. */
class ProxyAccessLogTest {
    @TempDir
    Path dir;

    static final String YAML = """
            access_log: { path: %s, format: %s }
            listeners:
              - name: web
                bind: 127.0.0.1:0
                routes:
                  - name: api
                    match: { path_prefix: / }
                    upstream: be
            upstreams:
              be: { endpoints: [%s] }
            """;

    static Wire.Message send(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return Wire.readResponse(s.getInputStream(), false);
        }
    }

    /** A flat JSON object as field name to value text ({@link FlatJson}). */
    static Map<String, String> parse(String line) throws IOException {
        return FlatJson.parse(line);
    }

    static List<String> lines(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    @Test
    void jsonLine() throws Exception {
        Path log = dir.resolve("access.json");
        try (TestBackend be = TestBackend.start("be");
             TestProxy p = TestProxy.start(YAML.formatted(log, "json", be.address()))) {
            Wire.Message res = send(p.port("web"), "GET /items?x=1 HTTP/1.1\r\nHost: shop.test\r\n"
                    + "X-Request-Id: log-me-1\r\nUser-Agent: ua/1\r\n\r\n");
            assertThat(res.status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> !lines(log).isEmpty());
            Map<String, String> j = parse(lines(log).get(0));
            assertThat(j.get("method")).isEqualTo("GET");
            assertThat(j.get("uri")).isEqualTo("/items?x=1");
            assertThat(j.get("status")).isEqualTo("200");
            assertThat(j.get("route")).isEqualTo("api");
            assertThat(j.get("upstream")).isEqualTo("be");
            assertThat(j.get("request_id")).isEqualTo("log-me-1");
            assertThat(j.get("host")).isEqualTo("shop.test");
            assertThat(j.get("protocol")).isEqualTo("HTTP/1.1");
            assertThat(j.get("user_agent")).isEqualTo("ua/1");
        }
    }

    @Test
    void jsonLineRecordsTheClientsHttpVersion() throws Exception {
        Path log = dir.resolve("access10.json");
        try (TestBackend be = TestBackend.start("be");
             TestProxy p = TestProxy.start(YAML.formatted(log, "json", be.address()))) {
            assertThat(send(p.port("web"), "GET /old HTTP/1.0\r\n\r\n").status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> !lines(log).isEmpty());
            Map<String, String> j = parse(lines(log).get(0));
            assertThat(j.get("protocol")).isEqualTo("HTTP/1.0");
        }
    }

    @Test
    void combinedLine() throws Exception {
        Path log = dir.resolve("access.log");
        try (TestBackend be = TestBackend.start("be");
             TestProxy p = TestProxy.start(YAML.formatted(log, "combined", be.address()))) {
            assertThat(send(p.port("web"), "GET /c?y=2 HTTP/1.1\r\nHost: h\r\nReferer: http://ref.test/\r\n"
                    + "User-Agent: curl/8\r\n\r\n").status()).isEqualTo(200);
            assertThat(send(p.port("web"), "GET /nope HTTP/1.1\r\n\r\n").status()).isEqualTo(400);
            await().atMost(Duration.ofSeconds(5)).until(() -> lines(log).size() >= 2);
            // Two connections may land on two event loops, so the lines can come in either order.
            List<String> l = lines(log).stream().sorted((a, b) -> Boolean.compare(a.contains("/nope"), b.contains("/nope"))).toList();
            assertThat(l.get(0)).matches("127\\.0\\.0\\.1 - - \\[[^]]+\\] \"GET /c\\?y=2 HTTP/1\\.1\" 200 \\d+ "
                    + "\"http://ref\\.test/\" \"curl/8\"");
            // a request refused before its target is parsed (here: no Host) logs its URI as "-"
            assertThat(l.get(1)).matches("127\\.0\\.0\\.1 - - \\[[^]]+\\] \"GET \\S+ HTTP/1\\.1\" 400 \\d+ \"-\" \"-\"");
        }
    }
}
