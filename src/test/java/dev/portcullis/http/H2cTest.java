package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portcullis.testing.H2Wire;
import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 in clear text on a {@code protocol: http} listener: prior knowledge (the preface), the HTTP/1.1 Upgrade to
 * h2c, HTTP/1 untouched, a TLS handshake on the plain port, and {@code http2.enabled: false}. Also the header
 * mapping h2 → HTTP/1.1 and the framing of responses, checked frame by frame with a raw client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class H2cTest {
    private TestBackend backend;
    private TestProxy proxy;
    private int port;
    private int offPort;

    @BeforeAll
    void start() throws Exception {
        backend = TestBackend.start("be", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            backend.seen.add(new TestBackend.Seen(ex.getRequestMethod(), ex.getRequestURI().toString(),
                    java.util.Map.copyOf(ex.getRequestHeaders()), body));
            String path = ex.getRequestURI().getPath();
            if (path.equals("/204")) {
                ex.sendResponseHeaders(204, -1);
                return;
            }
            byte[] out = ("be " + ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body.length)
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, ex.getRequestMethod().equals("HEAD") ? -1 : out.length);
            if (!ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseBody().write(out);
            }
        });
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    http2: { max_concurrent_streams: 4 }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                  - name: off
                    bind: 127.0.0.1:0
                    http2: { enabled: false }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(backend.address()));
        port = proxy.port("web");
        offPort = proxy.port("off");
    }

    @AfterAll
    void stop() {
        proxy.close();
        backend.close();
    }

    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-o", "-", "-w", "\\n%{http_version} %{response_code}"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void priorKnowledgeWithCurl() throws Exception {
        assertThat(curl("--http2-prior-knowledge", "http://127.0.0.1:" + port + "/pk"))
                .isEqualTo("be GET /pk 0\n2 200");
    }

    @Test
    void upgradeWithCurl() throws Exception {
        assertThat(curl("--http2", "http://127.0.0.1:" + port + "/up")).isEqualTo("be GET /up 0\n2 200");
        // a small body goes along with the upgrade request (read whole, then sent as stream 1)
        assertThat(curl("--http2", "-d", "a=1", "http://127.0.0.1:" + port + "/up-post"))
                .isEqualTo("be POST /up-post 3\n2 200");
    }

    @Test
    void upgradeWithALargeBodyIsServedOverHttp11() throws Exception {
        Path big = Files.createTempFile("h2c", ".bin");
        Files.write(big, new byte[H2cUpgrade.MAX_BODY + 1]);
        backend.seen.clear();
        assertThat(curl("--http2", "--data-binary", "@" + big, "http://127.0.0.1:" + port + "/big"))
                .isEqualTo("be POST /big " + (H2cUpgrade.MAX_BODY + 1) + "\n1.1 200");
        TestBackend.Seen seen = backend.seen.poll();
        assertThat(seen.header("Upgrade")).isNull();
        assertThat(seen.header("HTTP2-Settings")).isNull();
    }

    @Test
    void upgradeOnlyOnTheFirstRequestOfAConnection() throws Exception {
        try (RawExchange c = new RawExchange(port)) {
            c.write("GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.readUntilClose(1000).text()).contains("be GET /one 0");
            c.write("GET /two HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
            RawExchange.Result r = c.readUntilClose(1000);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).contains("be GET /two 0");
        }
    }

    @Test
    void http1IsUntouched() throws Exception {
        RawExchange.Result r = RawExchange.send(port, "GET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 5000);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("be GET /plain 0");
        // a request starting like the preface but not it is HTTP/1 (here: the method PRI, refused by the checks)
        RawExchange.Result pri = RawExchange.send(port, "PRI /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                5000);
        assertThat(pri.status()).isEqualTo(200);
    }

    @Test
    void tlsHandshakeOnThePlainPortIsLoggedAndClosed() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(CleartextDetector.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            Process p = new ProcessBuilder("curl", "-sS", "-k", "--max-time", "10", "https://127.0.0.1:" + port + "/")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isNotZero();
            assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.contains("listener web") && m.contains("TLS handshake on a plain http listener")
                            && m.contains("use protocol: https"));
        } finally {
            logger.detachAppender(logs);
        }
        assertThat(curl("http://127.0.0.1:" + port + "/still")).isEqualTo("be GET /still 0\n1.1 200");
    }

    @Test
    void http2OffRefusesThePrefaceAndIgnoresTheUpgrade() throws Exception {
        try (Socket s = new Socket("127.0.0.1", offPort)) {
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(5000);
            String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(text).startsWith("HTTP/1.1 400 ").contains("HTTP/2 is off on this listener");
        }
        assertThat(curl("--http2", "http://127.0.0.1:" + offPort + "/off")).isEqualTo("be GET /off 0\n1.1 200");
        assertThat(curl("http://127.0.0.1:" + offPort + "/off2")).isEqualTo("be GET /off2 0\n1.1 200");
    }

    @Test
    void requestHeadersAreMappedForTheHttp11Backend() throws Exception {
        backend.seen.clear();
        try (H2Wire c = new H2Wire(port)) {
            Http2Headers h = H2Wire.get("/map?q=1", "example.test:8080");
            h.add("cookie", "a=1").add("cookie", "b=2").add("te", "trailers").add("x-http2-scheme", "evil")
                    .add("x-http2-stream-id", "99").add("x-custom", "v");
            c.headers(1, h, true);
            c.flush();
            H2Wire.Response r = c.response(1);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("be GET /map?q=1 0");
        }
        TestBackend.Seen seen = backend.seen.poll();
        assertThat(seen.header("Host")).isEqualTo("example.test:8080");
        assertThat(seen.header("Cookie")).isEqualTo("a=1; b=2");
        assertThat(seen.header("TE")).isNull();
        assertThat(seen.header("X-Custom")).isEqualTo("v");
        assertThat(seen.headers().keySet()).noneMatch(k -> k.toLowerCase().startsWith("x-http2-"));
        assertThat(seen.header("X-Forwarded-Host")).isEqualTo("example.test:8080");
    }

    @Test
    void connectionSpecificRequestHeadersAreAStreamError() throws Exception {
        backend.seen.clear();
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, H2Wire.get("/bad", "h").add("connection", "keep-alive"), true);
            c.flush();
            H2Wire.Response r = c.response(1);
            assertThat(r.reset()).as("RST_STREAM").isNotNull();
            // the connection itself still serves
            c.headers(3, H2Wire.get("/good", "h"), true);
            c.flush();
            assertThat(c.response(3).status()).isEqualTo(200);
        }
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/good");
    }

    @Test
    void headerValuesCannotInjectHttp1Lines() throws Exception {
        backend.seen.clear();
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, H2Wire.unchecked("/inject", "h").add("x-evil", "a\r\nx-injected: 1"), true);
            c.headers(3, H2Wire.unchecked("/inject-nul", "h").add("x-evil", "a\u0000b"), true);
            c.headers(5, H2Wire.unchecked("/UPPER", "h").add("X-Upper", "1"), true);
            c.headers(7, H2Wire.unchecked("/sp ace", "h"), true);
            c.flush();
            for (int s = 1; s <= 5; s += 2) {
                H2Wire.Response r = c.response(s);
                assertThat(r.reset() != null || r.status() == 400).as("stream " + s + ": " + r.frames()).isTrue();
            }
            // a space in :path is malformed: reset before conversion (where Netty would leak its buffer)
            assertThat(c.response(7).reset().errorCode()).isEqualTo(1);
            c.headers(9, H2Wire.get("/fine", "h"), true);
            c.flush();
            assertThat(c.response(9).status()).isEqualTo(200);
        }
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/fine");
    }

    @Test
    void hostAndAuthorityThatDifferAreRefused() throws Exception {
        backend.seen.clear();
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, H2Wire.get("/two-hosts", "a.example").add("host", "b.example"), true);
            c.flush();
            H2Wire.Response r = c.response(1);
            assertThat(r.reset()).as("RST_STREAM").isNotNull();
            assertThat(r.reset().errorCode()).isEqualTo(1); // PROTOCOL_ERROR
            c.headers(3, H2Wire.get("/same-host", "a.example").add("host", "a.example"), true);
            c.flush();
            assertThat(c.response(3).status()).isEqualTo(200);
        }
        assertThat(backend.seen).hasSize(1);
        assertThat(backend.seen.peek().headers().get("Host")).containsExactly("a.example");
    }

    @Test
    void bodylessResponsesAreOneHeadersFrame() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, new DefaultHttp2Headers().method("HEAD").scheme("http").path("/head").authority("h"), true);
            c.flush();
            H2Wire.Response head = c.response(1);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.frames()).filteredOn(f -> f.stream() == 1).extracting(H2Wire.Frame::type)
                    .containsExactly(H2Wire.HEADERS);
            c.headers(3, H2Wire.get("/204", "h"), true);
            c.flush();
            H2Wire.Response noContent = c.response(3);
            assertThat(noContent.status()).isEqualTo(204);
            assertThat(noContent.frames()).filteredOn(f -> f.stream() == 3).extracting(H2Wire.Frame::type)
                    .containsExactly(H2Wire.HEADERS);
            // a proxy-made error to HEAD: headers only
            c.headers(5, new DefaultHttp2Headers().method("HEAD").scheme("http").path("/x").authority("bad host"),
                    true);
            c.flush();
            H2Wire.Response bad = c.response(5);
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body()).isEmpty();
            assertThat(bad.headers().get("content-length")).isNotNull();
        }
    }

    @Test
    void requestBodyOverH2IsForwardedChunkedOrWithItsLength() throws Exception {
        backend.seen.clear();
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, new DefaultHttp2Headers().method("POST").scheme("http").path("/chunked").authority("h"), false);
            c.data(1, "hello ".getBytes(StandardCharsets.US_ASCII), false);
            c.data(1, "world".getBytes(StandardCharsets.US_ASCII), true);
            c.flush();
            assertThat(c.response(1).text()).isEqualTo("be POST /chunked 11");
            c.headers(3, new DefaultHttp2Headers().method("POST").scheme("http").path("/length").authority("h")
                    .add("content-length", "5"), false);
            c.data(3, "12345".getBytes(StandardCharsets.US_ASCII), true);
            c.flush();
            assertThat(c.response(3).text()).isEqualTo("be POST /length 5");
            // a body longer than its content-length is a stream error, never forwarded
            c.headers(5, new DefaultHttp2Headers().method("POST").scheme("http").path("/lie").authority("h")
                    .add("content-length", "2"), false);
            c.data(5, "12345".getBytes(StandardCharsets.US_ASCII), true);
            c.flush();
            assertThat(c.response(5).reset()).isNotNull();
        }
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/chunked", "/length");
        assertThat(backend.seen.peek().header("Transfer-Encoding")).isEqualTo("chunked");
    }

    @Test
    void expectContinueIsAnsweredWithAnInformationalHeadersFrame() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            c.headers(1, new DefaultHttp2Headers().method("POST").scheme("http").path("/expect").authority("h")
                    .add("expect", "100-continue").add("content-length", "3"), false);
            c.flush();
            H2Wire.Frame first = c.read();
            while (first.type() != H2Wire.HEADERS) {
                first = c.read();
            }
            assertThat(first.headers().status().toString()).isEqualTo("100");
            assertThat(first.endStream()).isFalse();
            c.data(1, "abc".getBytes(StandardCharsets.US_ASCII), true);
            c.flush();
            H2Wire.Response r = c.response(1);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("be POST /expect 3");
        }
    }

    @Test
    void anUpstreamBreakingMidResponseResetsOnlyItsStream() throws Exception {
        try (dev.portcullis.testing.RawBackend broken = dev.portcullis.testing.RawBackend.serving((req, out) -> {
            dev.portcullis.testing.RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
            return false; // closes after 9 of 100 bytes
        });
             TestProxy p = TestProxy.start("""
                    listeners:
                      - name: web
                        bind: 127.0.0.1:0
                        routes:
                          - match: { path_prefix: /broken }
                            upstream: broken
                          - match: { path_prefix: / }
                            respond: { status: 200, body: fine }
                    upstreams:
                      broken: { endpoints: [%s] }
                    """.formatted(broken.address()));
             H2Wire c = new H2Wire(p.port("web"))) {
            c.headers(1, H2Wire.get("/broken", "h"), true);
            c.flush();
            H2Wire.Response r = c.response(1);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.reset()).as("the stream is reset, the body short").isNotNull();
            assertThat(r.reset().errorCode()).isEqualTo(8); // CANCEL
            c.headers(3, H2Wire.get("/", "h"), true);
            c.flush();
            assertThat(c.response(3).text()).isEqualTo("fine");
        }
    }

    @Test
    void maxConcurrentStreamsIsEnforced() throws Exception {
        // The backend holds each request until released; the 5th concurrent stream is refused.
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (TestBackend hold = TestBackend.start("hold", ex -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(200, -1);
        });
             TestProxy limited = TestProxy.start("""
                    listeners:
                      - name: web
                        bind: 127.0.0.1:0
                        http2: { max_concurrent_streams: 4 }
                        routes:
                          - match: { path_prefix: / }
                            upstream: hold
                    upstreams:
                      hold: { endpoints: [%s] }
                    """.formatted(hold.address()));
             H2Wire c = new H2Wire(limited.port("web"))) {
            {
                for (int i = 0; i < 5; i++) {
                    c.headers(1 + 2 * i, H2Wire.get("/hold/" + i, "h"), true);
                }
                c.flush();
                H2Wire.Response refused = c.response(9);
                assertThat(refused.reset()).isNotNull();
                assertThat(refused.reset().errorCode()).isEqualTo(7); // REFUSED_STREAM
                release.countDown();
                for (int i = 0; i < 4; i++) {
                    assertThat(c.response(1 + 2 * i).status()).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void h2RequestsAreLoggedAsHttp2(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.json");
        try (TestProxy p = TestProxy.start(ProxyAccessLogTest.YAML.formatted(log, "json", backend.address()))) {
            assertThat(curl("--http2-prior-knowledge", "http://127.0.0.1:" + p.port("web") + "/logged"))
                    .endsWith("2 200");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> !ProxyAccessLogTest.lines(log).isEmpty());
            java.util.Map<String, String> j = ProxyAccessLogTest.parse(ProxyAccessLogTest.lines(log).get(0));
            assertThat(j.get("protocol")).isEqualTo("HTTP/2.0");
            assertThat(j.get("uri")).isEqualTo("/logged");
            assertThat(j.get("status")).isEqualTo("200");
            assertThat(j.get("client_ip")).isEqualTo("127.0.0.1");
        }
    }
}
