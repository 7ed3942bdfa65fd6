package dev.portcullis.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portcullis.config.AccessLogConfig;
import dev.portcullis.config.AccessLogConfig.LogFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
    @TempDir
    Path dir;

    private final ProxyMetrics metrics = new ProxyMetrics();

    private List<String> awaitLines(Path file, int n) {
        return await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) ? Files.readAllLines(file) : List.of(),
                lines -> lines.size() >= n);
    }

    @Test
    void jsonLines() throws Exception {
        Path file = dir.resolve("logs/sub/access.json");
        try (AccessLog log = AccessLog.open(new AccessLogConfig(file.toString(), new LogFormat.Json()), metrics)) {
            log.log(AccessLogEntryTest.sample());
            log.log(new AccessLogEntry(0, "web", "::1", 1, "GET", "/\"q", "/", "HTTP/1.1", "http", null, null,
                    null, null, null, 400, 0, 0, 1_000, null, null));
            List<String> lines = awaitLines(file, 2);
            assertThat(lines.get(0)).isEqualTo("{\"time\":\"2000-10-10T13:45:36.000Z\",\"listener\":\"web\","
                    + "\"client_ip\":\"192.0.2.7\",\"client_port\":51234,\"method\":\"GET\",\"uri\":\"/x?a=1\","
                    + "\"protocol\":\"HTTP/1.1\",\"host\":\"example.com\",\"status\":200,\"bytes_sent\":2326,"
                    + "\"bytes_received\":0,\"duration_ms\":12.345,\"request_id\":\"req-1\",\"route\":\"api\",\"upstream\":\"backend\","
                    + "\"upstream_address\":\"10.0.0.5:8080\",\"user_agent\":\"curl/8\",\"referer\":\"http://ref/\"}");
            assertThat(lines.get(1)).contains("\"uri\":\"/\\\"q\"", "\"host\":null", "\"duration_ms\":1.000");
        }
    }

    @Test
    void combinedLines() throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLog log = AccessLog.open(new AccessLogConfig(file.toString(), new LogFormat.Combined()), metrics)) {
            log.log(AccessLogEntryTest.sample());
            log.log(new AccessLogEntry(0, "web", "::1", 1, "GET", "/a\"b", "/", "HTTP/1.1", "http", null, null,
                    null, null, null, 400, 0, 0, 1, "evil\nline", null));
            List<String> lines = awaitLines(file, 2);
            assertThat(lines.get(0)).isEqualTo(
                    "192.0.2.7 - - [10/Oct/2000:13:45:36 +0000] \"GET /x?a=1 HTTP/1.1\" 200 2326 \"http://ref/\" \"curl/8\"");
            assertThat(lines.get(1)).isEqualTo(
                    "::1 - - [01/Jan/1970:00:00:00 +0000] \"GET /a\\x22b HTTP/1.1\" 400 0 \"-\" \"evil\\x0aline\"");
        }
    }

    @Test
    void templateLinesAndCloseDrains() throws Exception {
        Path file = dir.resolve("t.log");
        AccessLog log = AccessLog.open(new AccessLogConfig(file.toString(),
                new LogFormat.Template("{client.ip} \"{request.line}\" {response.status} {duration.ms}ms")), metrics);
        for (int i = 0; i < 1000; i++) {
            log.log(AccessLogEntryTest.sample());
        }
        log.close();
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1000).allMatch("192.0.2.7 \"GET /x?a=1 HTTP/1.1\" 200 12.345ms"::equals);
        log.log(AccessLogEntryTest.sample()); // after close: dropped, no exception
    }

    @Test
    void appendsToAnExistingFile() throws Exception {
        Path file = dir.resolve("a.log");
        Files.writeString(file, "old\n");
        try (AccessLog log = AccessLog.open(new AccessLogConfig(file.toString(), new LogFormat.Template("new")), metrics)) {
            log.log(AccessLogEntryTest.sample());
            assertThat(awaitLines(file, 2)).containsExactly("old", "new");
        }
    }

    @Test
    void dropsWhenFullAndCounts() throws Exception {
        Path file = dir.resolve("d.log");
        AccessLog log = AccessLog.open(new AccessLogConfig(file.toString(), new LogFormat.Json()), metrics, 4);
        int offered = 200_000;
        for (int i = 0; i < offered; i++) {
            log.log(AccessLogEntryTest.sample());
        }
        log.close();
        long written = Files.readAllLines(file).size();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writeText(out);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(written).isLessThan(offered);
        assertThat(text).contains("portcullis_access_log_dropped_total " + (offered - written) + ".0");
    }

    @Test
    void writeErrorsDropAndCountButKeepGoing() throws Exception {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.isWritable(full), "needs /dev/full");
        AccessLog log = AccessLog.open(new AccessLogConfig(full.toString(), new LogFormat.Combined()), metrics);
        for (int i = 0; i < 3; i++) {
            log.log(AccessLogEntryTest.sample());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            metrics.writeText(out);
            return out.toString(StandardCharsets.UTF_8).contains("portcullis_access_log_dropped_total 3.0");
        });
        log.log(AccessLogEntryTest.sample());
        log.close();
    }

    @Test
    void offDoesNothing() throws Exception {
        AccessLog log = AccessLog.open(new AccessLogConfig("off", new LogFormat.Json()), metrics);
        assertThat(log.enabled()).isFalse();
        log.log(AccessLogEntryTest.sample());
        log.close();
    }

    @Test
    void unopenableFileNamesThePath() throws IOException {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "x");
        String path = blocker.resolve("sub/access.log").toString();
        assertThatThrownBy(() -> AccessLog.open(new AccessLogConfig(path, new LogFormat.Json()), metrics))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(path)
                .hasMessageContaining("access_log.path");
    }

    @Test
    void unknownPlaceholderIsRefused() {
        assertThatThrownBy(() -> AccessLog.open(new AccessLogConfig(dir.resolve("x").toString(),
                new LogFormat.Template("{nope.nope}")), metrics))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
