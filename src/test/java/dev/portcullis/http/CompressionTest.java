package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import dev.portcullis.testing.Decoders;
import dev.portcullis.testing.H2TestCerts;
import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Route {@code compress}, black-box: a raw backend answers what each test asks for through query parameters
 * ({@code status}, {@code type}, {@code size}, {@code framing}, {@code h=Name:Value}), clients are raw sockets (to see
 * exact heads and framing), the JDK HttpClient over h2, and bodies are decoded with the reference decoders.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CompressionTest {
    private static final int SIZE = 20_000;

    private RawBackend backend;
    private TestProxy proxy;
    private H2TestCerts certs;
    /** Answers paths under /special/ for the test running now. */
    private volatile RawBackend.Responder special;

    @BeforeAll
    void start() throws Exception {
        certs = H2TestCerts.create();
        backend = RawBackend.serving((req, out) -> {
            String target = req.startLine().split(" ")[1];
            if (target.contains("/special/")) {
                return special.respond(req, out);
            }
            return respond(req, out);
        });
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    defaults: { compress: true }
                    routes:
                      - name: gzip-first
                        match: { path_prefix: /gzipfirst/ }
                        compress: { algorithms: [gzip, zstd, br] }
                        upstream: be
                      - name: small
                        match: { path_prefix: /small/ }
                        compress: { min_size: 100 }
                        upstream: be
                      - name: app
                        match: { path_prefix: /app/ }
                        compress: { types: ["application/*"] }
                        upstream: be
                      - name: off
                        match: { path_prefix: /off/ }
                        compress: false
                        upstream: be
                      - name: main
                        match: { path_prefix: / }
                        headers: { response: { set: { X-After: "headers ran" } } }
                        upstream: be
                  - name: tls
                    bind: 127.0.0.1:0
                    protocol: https
                    tls: %s
                    routes:
                      - name: h2
                        match: { path_prefix: / }
                        compress: true
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(certs.tlsYaml(), backend.address()));
    }

    @AfterAll
    void stop() throws Exception {
        proxy.close();
        backend.close();
    }

    // ---- the backend ----

    /** Compressible text of the given size, the same for the same size. */
    static byte[] text(int size) {
        String[] words = {"portcullis", "proxy", "stream", "chunk", "header", "body", "the", "a", "of", "response",
            "request", "{\"id\":", "\"name\":", "\n", "compression", "brotli", "zstd", "gzip"};
        Random r = new Random(size);
        StringBuilder sb = new StringBuilder(size + 32);
        while (sb.length() < size) {
            sb.append(words[r.nextInt(words.length)]).append(' ').append(r.nextInt(10_000)).append(' ');
        }
        return sb.substring(0, size).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Map<String, List<String>> query(String target) {
        Map<String, List<String>> q = new HashMap<>();
        int i = target.indexOf('?');
        if (i >= 0) {
            for (String kv : target.substring(i + 1).split("&")) {
                int eq = kv.indexOf('=');
                String k = eq < 0 ? kv : kv.substring(0, eq);
                String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                q.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
            }
        }
        return q;
    }

    private static String first(Map<String, List<String>> q, String key, String otherwise) {
        List<String> v = q.get(key);
        return v == null ? otherwise : v.get(0);
    }

    private static boolean respond(Wire.Message req, OutputStream out) throws IOException {
        boolean head = req.startLine().startsWith("HEAD ");
        Map<String, List<String>> q = query(req.startLine().split(" ")[1]);
        int status = Integer.parseInt(first(q, "status", "200"));
        String type = first(q, "type", "text/html; charset=utf-8");
        int size = Integer.parseInt(first(q, "size", String.valueOf(SIZE)));
        boolean chunked = first(q, "framing", "length").equals("chunked");
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
        if (!type.equals("none")) {
            h.append("Content-Type: ").append(type).append("\r\n");
        }
        for (String line : q.getOrDefault("h", List.of())) {
            h.append(line).append("\r\n");
        }
        boolean bodyless = status == 204 || status == 304;
        if (bodyless) {
            RawBackend.write(out, h.append("\r\n").toString());
            return true;
        }
        byte[] body = text(size);
        if (chunked) {
            h.append("Transfer-Encoding: chunked\r\n");
            if (q.containsKey("trailer")) {
                h.append("Trailer: X-Checksum\r\n");
            }
        } else {
            h.append("Content-Length: ").append(body.length).append("\r\n");
        }
        RawBackend.write(out, h.append("\r\n").toString());
        if (head) {
            return true;
        }
        if (chunked) {
            for (int off = 0; off < body.length; off += 7000) {
                int n = Math.min(7000, body.length - off);
                RawBackend.write(out, Integer.toHexString(n) + "\r\n");
                out.write(body, off, n);
                RawBackend.write(out, "\r\n");
            }
            RawBackend.write(out, "0\r\n" + (q.containsKey("trailer") ? "X-Checksum: abc123\r\n" : "") + "\r\n");
        } else {
            out.write(body);
        }
        return true;
    }

    // ---- the client ----

    private static String path(String base, String... headers) {
        StringBuilder sb = new StringBuilder(base).append(base.contains("?") ? "&" : "?").append("x=1");
        for (String h : headers) {
            sb.append("&h=").append(URLEncoder.encode(h, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    /** One request on a new connection; the response as read from the wire. */
    private Wire.Message send(String method, String target, String... requestHeaders) throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(20_000);
            StringBuilder req = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: h\r\n");
            for (String h : requestHeaders) {
                req.append(h).append("\r\n");
            }
            s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            return Wire.readResponse(s.getInputStream(), method.equals("HEAD"));
        }
    }

    private Wire.Message get(String target, String acceptEncoding) throws IOException {
        return acceptEncoding == null ? send("GET", target) : send("GET", target, "Accept-Encoding: " + acceptEncoding);
    }

    /** Asserts the response was compressed with {@code coding} and decodes to the backend's text of {@code size}. */
    private static void assertCompressed(Wire.Message r, String coding, int size) throws IOException {
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Encoding")).isEqualTo(coding);
        assertThat(r.header("Content-Length")).isNull();
        assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
        assertThat(r.body().length).isLessThan(size / 2);
        assertThat(Decoders.decode(coding, r.body())).isEqualTo(text(size));
    }

    /** Asserts the body came as the backend sent it, with its length. */
    private static void assertIdentity(Wire.Message r, int size) {
        assertThat(r.header("Content-Encoding")).isNull();
        assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(size));
        assertThat(r.body()).isEqualTo(text(size));
    }

    private CompressionStats stats(String route) {
        return proxy.process().metrics().compression(route);
    }

    // ---- each algorithm ----

    @ParameterizedTest
    @ValueSource(strings = {"br", "zstd", "gzip"})
    void eachAlgorithmRoundTrips(String coding) throws IOException {
        long before = stats("main").responses(Algorithm.valueOf(coding.toUpperCase(java.util.Locale.ROOT)));
        Wire.Message r = get("/page", coding);
        assertCompressed(r, coding, SIZE);
        assertThat(r.header("X-After")).isEqualTo("headers ran"); // headers.response still applies after
        assertThat(stats("main").responses(Algorithm.valueOf(coding.toUpperCase(java.util.Locale.ROOT))))
                .isEqualTo(before + 1);
        Wire.Message chunked = get("/page?framing=chunked&size=100000", coding);
        assertCompressed(chunked, coding, 100_000);
    }

    @Test
    void metricsAreExported() throws Exception {
        assertCompressed(get("/metrics-check", "gzip"), "gzip", SIZE);
        HttpClient http = HttpClient.newHttpClient();
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(text).contains("portcullis_compressed_responses_total{algorithm=\"gzip\",route=\"main\"}");
        assertThat(text).containsPattern(
                "portcullis_compression_bytes_total\\{algorithm=\"gzip\",direction=\"in\",route=\"main\"} [1-9]");
        assertThat(text).containsPattern(
                "portcullis_compression_bytes_total\\{algorithm=\"gzip\",direction=\"out\",route=\"main\"} [1-9]");
    }

    // ---- negotiation ----

    @Test
    void highestQWinsAndTiesGoToTheRouteOrder() throws IOException {
        assertCompressed(get("/page", "gzip, deflate, br, zstd"), "br", SIZE);
        assertCompressed(get("/gzipfirst/page", "gzip, deflate, br, zstd"), "gzip", SIZE);
        assertCompressed(get("/page", "br;q=0.5, gzip;q=0.9, zstd;q=0.7"), "gzip", SIZE);
        assertCompressed(get("/page", "gzip;q=0.5, zstd;q=0.8, br;q=0.8"), "br", SIZE);
        assertCompressed(get("/gzipfirst/page", "gzip;q=0.5, zstd;q=0.8, br;q=0.8"), "zstd", SIZE);
        assertCompressed(get("/page", "  GZIP ; Q=1 , Br;q=0.1"), "gzip", SIZE);
    }

    @Test
    void identityAndStar() throws IOException {
        assertCompressed(get("/page", "identity;q=0, gzip;q=0.1"), "gzip", SIZE);
        assertCompressed(get("/page", "*"), "br", SIZE);
        assertCompressed(get("/page", "br;q=0, *"), "zstd", SIZE);
        assertCompressed(get("/page", "*;q=0, gzip"), "gzip", SIZE);
        // Nothing acceptable, identity refused: sent as is (never 406), still with Vary.
        Wire.Message r = get("/page", "identity;q=0");
        assertIdentity(r, SIZE);
        assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
        assertIdentity(get("/page", "identity, gzip;q=0.5"), SIZE);
    }

    @Test
    void noOrUselessAcceptEncodingGetsIdentityWithVary() throws IOException {
        for (String ae : new String[] {null, "", "deflate, compress", "gzip;q=0", "gzip;q=bogus, ;;,"}) {
            Wire.Message r = get("/page", ae);
            assertThat(r.status()).isEqualTo(200);
            assertIdentity(r, SIZE);
            assertThat(r.header("Vary")).as("Accept-Encoding: " + ae).isEqualTo("Accept-Encoding");
        }
    }

    // ---- when never ----

    @Test
    void alreadyEncodedIsLeftAlone() throws IOException {
        Wire.Message r = get(path("/page", "Content-Encoding: gzip"), "br, gzip");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(SIZE));
        assertThat(r.header("Vary")).isNull();
        assertThat(r.body()).isEqualTo(text(SIZE));
        // identity is no encoding: compressed
        Wire.Message id = get(path("/page", "Content-Encoding: identity"), "zstd");
        assertCompressed(id, "zstd", SIZE);
    }

    @Test
    void noTransformIsHonoured() throws IOException {
        Wire.Message r = get(path("/page", "Cache-Control: public, No-Transform, max-age=60"), "br");
        assertIdentity(r, SIZE);
        assertThat(r.header("Vary")).isNull();
        Wire.Message asked = send("GET", "/page", "Accept-Encoding: br", "Cache-Control: no-transform");
        assertIdentity(asked, SIZE);
        assertCompressed(get(path("/page", "Cache-Control: no-transformer"), "br"), "br", SIZE);
    }

    @Test
    void rangesAreNeverCompressed() throws IOException {
        Wire.Message partial = get(path("/page?status=206", "Content-Range: bytes 0-19999/40000"), "br");
        assertThat(partial.status()).isEqualTo(206);
        assertIdentity(partial, SIZE);
        assertThat(partial.header("Vary")).isNull();
        // The backend ignored the Range and sent it all: still as is, a client asking for a range must not get
        // a coding it did not ask the range of.
        Wire.Message whole = send("GET", "/page", "Accept-Encoding: br", "Range: bytes=0-99");
        assertIdentity(whole, SIZE);
        // A Content-Range on another status (416) says the same.
        assertIdentity(get(path("/page?status=416", "Content-Range: bytes */40000"), "br"), SIZE);
    }

    @Test
    void minSizeByContentLength() throws IOException {
        Wire.Message small = get("/page?size=1000", "br");
        assertIdentity(small, 1000);
        assertThat(small.header("Vary")).isNull();
        assertCompressed(get("/page?size=1024", "br"), "br", 1024);
        // No length known: compressed whatever the size turns out to be.
        Wire.Message chunked = get("/page?size=300&framing=chunked", "gzip");
        assertThat(chunked.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(Decoders.decode("gzip", chunked.body())).isEqualTo(text(300));
        // The route's own min_size.
        assertThat(get("/small/page?size=150", "gzip").header("Content-Encoding")).isEqualTo("gzip");
        assertIdentity(get("/small/page?size=99", "gzip"), 99);
        assertIdentity(get("/small/page?size=0", "gzip"), 0);
    }

    @Test
    void typesWildcardsAndParameters() throws IOException {
        for (String type : new String[] {"text/plain", "TEXT/CSS", "text/html;charset=utf-8", "application/json",
            "application/json; charset=UTF-8", "image/svg+xml"}) {
            assertCompressed(get("/page?type=" + URLEncoder.encode(type, StandardCharsets.UTF_8), "gzip"), "gzip", SIZE);
        }
        for (String type : new String[] {"image/png", "application/octet-stream", "none", "application/grpc",
            "video/mp4"}) {
            Wire.Message r = get("/page?type=" + URLEncoder.encode(type, StandardCharsets.UTF_8), "gzip");
            assertThat(r.header("Content-Encoding")).as(type).isNull();
            assertThat(r.header("Vary")).as(type).isNull();
        }
        // types: [application/*]: any application type, never gRPC, no text.
        assertCompressed(get("/app/x?type=application/x-custom", "br"), "br", SIZE);
        assertIdentity(get("/app/x?type=" + URLEncoder.encode("application/grpc+proto", StandardCharsets.UTF_8), "br"), SIZE);
        assertIdentity(get("/app/x?type=text/html", "br"), SIZE);
    }

    @Test
    void compressFalseOverridesTheListenerDefault() throws IOException {
        Wire.Message r = get("/off/page", "br");
        assertIdentity(r, SIZE);
        assertThat(r.header("Vary")).isNull();
    }

    @Test
    void bodylessStatusesAreUntouched() throws IOException {
        Wire.Message noContent = get("/page?status=204", "br");
        assertThat(noContent.status()).isEqualTo(204);
        assertThat(noContent.header("Content-Encoding")).isNull();
        assertThat(noContent.header("Vary")).isNull();
        Wire.Message notModified = get(path("/page?status=304", "ETag: \"v1\""), "br");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("Content-Encoding")).isNull();
        assertThat(notModified.header("ETag")).isEqualTo("\"v1\"");
    }

    @Test
    void errorStatusesWithBodiesAreCompressed() throws IOException {
        Wire.Message r = get("/page?status=404", "zstd");
        assertThat(r.status()).isEqualTo(404);
        assertThat(Decoders.decode("zstd", r.body())).isEqualTo(text(SIZE));
    }

    @Test
    void headGetsTheHeadOfAGet() throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(20_000);
            String target = path("/page", "ETag: \"abc\"", "Vary: Origin");
            s.getOutputStream().write(("HEAD " + target + " HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br\r\n\r\n"
                    + "GET " + target + " HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            Wire.Message head = Wire.readResponse(in, true);
            Wire.Message get = Wire.readResponse(in, false); // the HEAD had no body: the GET follows right away
            for (String name : new String[] {"Content-Encoding", "Content-Length", "Transfer-Encoding", "Vary", "ETag",
                "Content-Type", "Accept-Ranges"}) {
                assertThat(head.header(name)).as(name).isEqualTo(get.header(name));
            }
            assertThat(head.header("Content-Encoding")).isEqualTo("br");
            assertThat(head.header("ETag")).isEqualTo("W/\"abc\"");
            assertThat(Decoders.decode("br", get.body())).isEqualTo(text(SIZE));
        }
    }

    // ---- what changes in the head ----

    @Test
    void varyIsMergedWithoutDuplicates() throws IOException {
        assertThat(get(path("/page", "Vary: Origin"), "br").header("Vary")).isEqualTo("Origin, Accept-Encoding");
        assertThat(get(path("/page", "Vary: accept-encoding"), "br").header("Vary")).isEqualTo("accept-encoding");
        assertThat(get(path("/page", "Vary: *"), "br").header("Vary")).isEqualTo("*");
        Wire.Message two = get(path("/page", "Vary: Origin", "Vary: Cookie, Accept-Language"), "br");
        assertThat(two.headers().stream().filter(h -> h[0].equalsIgnoreCase("Vary")).map(h -> h[1]).toList())
                .containsExactly("Origin, Cookie, Accept-Language, Accept-Encoding");
        // Sent as is because the client takes no coding: the same Vary, so a cache keeps both variants apart.
        assertThat(get(path("/page", "Vary: Origin"), null).header("Vary")).isEqualTo("Origin, Accept-Encoding");
    }

    @Test
    void strongEtagsBecomeWeakAndRangesAreNotOffered() throws IOException {
        Wire.Message r = get(path("/page", "ETag: \"v42\"", "Accept-Ranges: bytes"), "gzip");
        assertThat(r.header("ETag")).isEqualTo("W/\"v42\"");
        assertThat(r.header("Accept-Ranges")).isNull();
        assertThat(get(path("/page", "ETag: W/\"v42\""), "gzip").header("ETag")).isEqualTo("W/\"v42\"");
        Wire.Message identity = get(path("/page", "ETag: \"v42\"", "Accept-Ranges: bytes"), null);
        assertThat(identity.header("ETag")).isEqualTo("\"v42\"");
        assertThat(identity.header("Accept-Ranges")).isEqualTo("bytes");
    }

    @Test
    void trailersAreKept() throws IOException {
        Wire.Message r = send("GET", "/page?framing=chunked&trailer=1", "Accept-Encoding: zstd", "TE: trailers");
        assertThat(r.header("Content-Encoding")).isEqualTo("zstd");
        assertThat(r.trailer("X-Checksum")).isEqualTo("abc123");
        assertThat(Decoders.decode("zstd", r.body())).isEqualTo(text(SIZE));
    }

    @Test
    void http10ClientsGetACloseDelimitedCompressedBody() throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /page HTTP/1.0\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            Wire.Message r = Wire.readResponse(s.getInputStream(), false);
            assertThat(r.framing()).isEqualTo("close");
            assertThat(Decoders.decode("gzip", r.body())).isEqualTo(text(SIZE));
        }
    }

    // ---- HTTP/2 ----

    @ParameterizedTest
    @ValueSource(strings = {"br", "zstd", "gzip"})
    void http2ClientsGetCompressedDataFrames(String coding) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + proxy.port("tls") + "/page?size=50000&framing=chunked"))
                .header("Accept-Encoding", coding).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.headers().firstValue("content-encoding")).hasValue(coding);
        assertThat(r.headers().firstValue("content-length")).isEmpty();
        assertThat(r.headers().firstValue("vary")).hasValue("Accept-Encoding");
        assertThat(Decoders.decode(coding, r.body())).isEqualTo(text(50_000));
        HttpResponse<byte[]> head = client.send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + proxy.port("tls") + "/page"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept-Encoding", coding)
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(head.headers().firstValue("content-encoding")).hasValue(coding);
        assertThat(head.headers().firstValue("content-length")).isEmpty();
        assertThat(head.body()).isEmpty();
    }

    // ---- streaming ----

    /**
     * An event stream: the backend writes event i only once the client decoded event i-1 through the proxy, so an
     * encoder that held bytes back (no flush per read batch) would stall the test.
     */
    @ParameterizedTest
    @ValueSource(strings = {"br", "zstd", "gzip"})
    void eventsArriveOneByOneWhileTheUpstreamStaysOpen(String coding) throws Exception {
        int events = 5;
        CountDownLatch[] seen = new CountDownLatch[events];
        for (int i = 0; i < events; i++) {
            seen[i] = new CountDownLatch(1);
        }
        AtomicBoolean stalled = new AtomicBoolean();
        special = (req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < events; i++) {
                String event = "id: " + i + "\ndata: {\"tick\": " + i + ", \"pad\": \"" + "x".repeat(50) + "\"}\n\n";
                RawBackend.write(out, Integer.toHexString(event.length()) + "\r\n" + event + "\r\n");
                try {
                    if (!seen[i].await(15, TimeUnit.SECONDS)) {
                        stalled.set(true);
                        return false;
                    }
                } catch (InterruptedException e) {
                    return false;
                }
            }
            RawBackend.write(out, "0\r\n\r\n");
            return true;
        };
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"));
             Decoders.Incremental decoder = Decoders.incremental(coding)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /special/events HTTP/1.1\r\nHost: h\r\nAccept-Encoding: " + coding
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String status = Wire.readLine(in);
            assertThat(status).startsWith("HTTP/1.1 200");
            String line;
            String encoding = null;
            while (!(line = Wire.readLine(in)).isEmpty()) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-encoding:")) {
                    encoding = line.substring(17).trim();
                }
            }
            assertThat(encoding).isEqualTo(coding);
            StringBuilder decoded = new StringBuilder();
            int next = 0;
            while (next < events) {
                int size = Integer.parseInt(Wire.readLine(in).trim(), 16);
                assertThat(size).as("the stream ended after %d events", next).isPositive();
                byte[] chunk = in.readNBytes(size);
                Wire.readLine(in);
                decoded.append(new String(decoder.feed(chunk, 0, chunk.length), StandardCharsets.UTF_8));
                while (next < events && decoded.indexOf("\"tick\": " + next + ",") >= 0) {
                    seen[next++].countDown();
                }
            }
            assertThat(stalled.get()).isFalse();
        }
    }

    /**
     * 50 MiB of text, chunked, through a client that stops reading for a while: the backend is held back (the proxy
     * keeps nothing but its socket buffers and the encoder's window), and the whole body decodes to what was sent.
     */
    @Test
    void aLargeStreamedBodyPassesInBoundedMemory() throws Exception {
        long total = 50L << 20;
        AtomicLong written = new AtomicLong();
        byte[] block = text(64 * 1024);
        special = (req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
            String size = Integer.toHexString(block.length) + "\r\n";
            for (long sent = 0; sent < total; sent += block.length) {
                RawBackend.write(out, size);
                out.write(block);
                RawBackend.write(out, "\r\n");
                written.addAndGet(block.length);
            }
            RawBackend.write(out, "0\r\n\r\n");
            return true;
        };
        CRC32 expected = new CRC32();
        for (long sent = 0; sent < total; sent += block.length) {
            expected.update(block);
        }
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port("web")));
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET /special/big HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String line;
            while (!(line = Wire.readLine(in)).isEmpty()) {
                assertThat(line).doesNotStartWith("Content-Length");
            }
            InputStream body = Decoders.stream("gzip", new ChunkedBody(in));
            byte[] buf = new byte[64 * 1024];
            CRC32 crc = new CRC32();
            long got = 0;
            boolean paused = false;
            int n;
            while ((n = body.read(buf)) > 0) {
                crc.update(buf, 0, n);
                got += n;
                if (!paused && got >= (1 << 20)) {
                    paused = true;
                    Thread.sleep(1500); // the client stops reading: everything in between fills up and holds
                    assertThat(written.get()).as("bytes the backend wrote while the client read 1 MiB")
                            .isLessThan(total / 2);
                }
            }
            assertThat(got).isEqualTo(total);
            assertThat(crc.getValue()).isEqualTo(expected.getValue());
        }
    }

    /** The client goes away mid-body: the upstream connection is dropped, the encoder freed (its bytes counted). */
    @Test
    void aClientThatLeavesMidStreamFreesTheEncoder() throws Exception {
        AtomicBoolean backendSawTheEnd = new AtomicBoolean();
        byte[] block = text(16 * 1024);
        special = (req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
            try {
                for (int i = 0; i < 100_000; i++) {
                    RawBackend.write(out, Integer.toHexString(block.length) + "\r\n");
                    out.write(block);
                    RawBackend.write(out, "\r\n");
                    Thread.sleep(5);
                }
            } catch (IOException | InterruptedException e) {
                backendSawTheEnd.set(true);
            }
            return false;
        };
        CompressionStats stats = stats("main");
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /special/forever HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            byte[] some = new byte[2000];
            int read = 0;
            while (read < some.length) {
                int n = in.read(some, read, some.length - read);
                assertThat(n).isPositive();
                read += n;
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(20)).untilTrue(backendSawTheEnd);
        assertThat(stats.responses(Algorithm.BR)).isPositive();
    }

    /** The upstream breaks mid-body: the client sees the connection end before the last chunk; nothing leaks. */
    @Test
    void anUpstreamThatBreaksMidStreamEndsTheClientConnection() throws Exception {
        byte[] block = text(16 * 1024);
        special = (req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 4; i++) {
                RawBackend.write(out, Integer.toHexString(block.length) + "\r\n");
                out.write(block);
                RawBackend.write(out, "\r\n");
            }
            return false; // closed without the last chunk
        };
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /special/broken HTTP/1.1\r\nHost: h\r\nAccept-Encoding: zstd\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertThatThrownBy(() -> Wire.readResponse(s.getInputStream(), false)).isInstanceOf(EOFException.class);
        }
    }

    /** A chunked body as a stream (the body only; trailers are read and dropped). */
    private static final class ChunkedBody extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedBody(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String size = Wire.readLine(in);
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (left == 0) {
                    while (!Wire.readLine(in).isEmpty()) {
                        // trailers
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("EOF in a chunk");
            }
            left -= n;
            if (left == 0) {
                Wire.readLine(in);
            }
            return n;
        }
    }
}
