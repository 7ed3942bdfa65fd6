package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.portcullis.testing.H2TestCerts;
import dev.portcullis.testing.PatternStream;
import dev.portcullis.testing.StreamingBackend;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/2 over TLS (ALPN h2) towards clients: the JDK HttpClient and curl against an https listener whose routes
 * reach HTTP/1.1 backends, multiplexing on one connection, large bodies both ways in bounded memory, and the
 * proxy's own answers (404, 502, HEAD, 204, 304) as HTTP/2 responses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Http2ServerTest {
    private static final int SLOW_MILLIS = 1000;

    private H2TestCerts certs;
    private TestBackend backend;
    private HttpServer slow;
    private ExecutorService slowPool;
    private StreamingBackend streaming;
    private TestProxy proxy;
    private HttpClient client;

    @BeforeAll
    void start() throws Exception {
        certs = H2TestCerts.create();
        backend = TestBackend.start("be", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            backend.seen.add(new TestBackend.Seen(ex.getRequestMethod(), ex.getRequestURI().toString(),
                    java.util.Map.copyOf(ex.getRequestHeaders()), body));
            String path = ex.getRequestURI().getPath();
            if (path.equals("/204")) {
                ex.sendResponseHeaders(204, -1);
                return;
            }
            if (path.equals("/304")) {
                ex.getResponseHeaders().set("ETag", "\"v1\"");
                ex.sendResponseHeaders(304, -1);
                return;
            }
            byte[] out = ("be " + ex.getRequestMethod() + " " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            ex.getResponseHeaders().set("Connection", "keep-alive");
            ex.sendResponseHeaders(200, ex.getRequestMethod().equals("HEAD") ? -1 : out.length);
            if (!ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseBody().write(out);
            }
        });
        slowPool = Executors.newCachedThreadPool();
        slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        slow.createContext("/", Http2ServerTest::answerSlowly);
        slow.setExecutor(slowPool);
        slow.start();
        streaming = new StreamingBackend();
        proxy = TestProxy.start("""
                listeners:
                  - name: tls
                    bind: 127.0.0.1:0
                    protocol: https
                    tls: %s
                    limits: { max_body_size: 200MiB }
                    routes:
                      - match: { path_prefix: /slow/ }
                        headers: { request: { set: { X-Client-Port: "{client.port}" } } }
                        upstream: slow
                      - match: { path_prefix: /stream/ }
                        rewrite: { strip_prefix: /stream }
                        upstream: streaming
                      - match: { path_prefix: /dead/ }
                        upstream: dead
                      - match: { host: [localhost, 127.0.0.1], path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                  slow: { endpoints: [127.0.0.1:%d] }
                  streaming: { endpoints: [%s] }
                  dead: { endpoints: [127.0.0.1:1] }
                """.formatted(certs.tlsYaml(), backend.address(), slow.getAddress().getPort(), streaming.address()));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    void stop() throws Exception {
        proxy.close();
        backend.close();
        slow.stop(0);
        slowPool.shutdownNow();
        streaming.close();
    }

    private URI uri(String path) {
        return URI.create("https://localhost:" + proxy.port("tls") + path);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void getOverH2ReachesTheHttp1BackendWithMappedHeaders() throws Exception {
        backend.seen.clear();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/hello?x=1"))
                .header("Cookie", "a=1").header("X-Custom", "yes").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("be GET /hello?x=1");
        assertThat(r.headers().firstValue("connection")).isEmpty();
        assertThat(r.headers().firstValue("keep-alive")).isEmpty();
        TestBackend.Seen seen = backend.seen.poll();
        assertThat(seen.header("Host")).isEqualTo("localhost:" + proxy.port("tls"));
        assertThat(seen.header("X-Custom")).isEqualTo("yes");
        assertThat(seen.header("Cookie")).isEqualTo("a=1");
        assertThat(seen.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(seen.headers().keySet()).noneMatch(k -> k.toLowerCase().startsWith("x-http2-"));
        assertThat(seen.headers().keySet()).noneMatch(k -> k.equalsIgnoreCase("transfer-encoding"));
    }

    @Test
    void curlHttp2OverTlsWithTheTestCa() throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "--http2", "--cacert", certs.ca.toString(), "-o", "-",
                "-w", "\\n%{http_version} %{response_code}", uri("/curl").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo("be GET /curl\n2 200");
    }

    @Test
    void http2OffOffersOnlyHttp11ByAlpn() throws Exception {
        try (TestProxy off = TestProxy.start("""
                listeners:
                  - name: tls
                    bind: 127.0.0.1:0
                    protocol: https
                    tls: %s
                    http2: { enabled: false }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(certs.tlsYaml(), backend.address()))) {
            Process p = new ProcessBuilder("curl", "-sS", "--http2", "--cacert", certs.ca.toString(), "-o", "-",
                    "-w", "\\n%{http_version} %{response_code}", "https://localhost:" + off.port("tls") + "/off")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEqualTo("be GET /off\n1.1 200");
        }
    }

    @Test
    void fiftyConcurrentRequestsShareOneConnection() throws Exception {
        get("/warm-up"); // one connection, established
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(uri("/slow/" + i)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        long millis = (System.nanoTime() - start) / 1_000_000;
        java.util.Set<String> versions = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> r = all.get(i).get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("/slow/" + i);
            versions.add(r.version().toString());
        }
        assertThat(versions).containsExactly("HTTP_2");
        // Served one after another this would take 50 s; multiplexed, about one backend delay (generous margin).
        assertThat(millis).isLessThan(SLOW_MILLIS * 15L);
    }

    @Test
    void concurrentStreamsComeFromOneClientConnection() throws Exception {
        HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.clientContext())
                .build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        own.send(HttpRequest.newBuilder(uri("/first")).build(), HttpResponse.BodyHandlers.ofString());
        java.util.Set<String> ports = java.util.concurrent.ConcurrentHashMap.newKeySet();
        slow.removeContext("/");
        slow.createContext("/", ex -> {
            ports.add(ex.getRequestHeaders().getFirst("X-Client-Port"));
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        try {
            for (int i = 0; i < 20; i++) {
                all.add(own.sendAsync(HttpRequest.newBuilder(uri("/slow/p" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            assertThat(ports).hasSize(1);
        } finally {
            slow.removeContext("/");
            slow.createContext("/", Http2ServerTest::answerSlowly);
        }
    }

    @Test
    void headAnd204And304() throws Exception {
        HttpResponse<String> head = client.send(HttpRequest.newBuilder(uri("/h"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        HttpResponse<String> noContent = get("/204");
        assertThat(noContent.statusCode()).isEqualTo(204);
        assertThat(noContent.body()).isEmpty();
        HttpResponse<String> notModified = get("/304");
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.headers().firstValue("etag")).hasValue("\"v1\"");
        // HEAD answered by the proxy itself: the error's headers, no body
        HttpResponse<String> localHead = client.send(HttpRequest.newBuilder(uri("/dead/x"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(localHead.statusCode()).isEqualTo(502);
        assertThat(localHead.body()).isEmpty();
        assertThat(get("/after-head").statusCode()).isEqualTo(200);
    }

    @Test
    void proxyErrorsAreHttp2Responses() throws Exception {
        HttpResponse<String> dead = get("/dead/y");
        assertThat(dead.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(dead.statusCode()).isEqualTo(502);
        assertThat(dead.body()).contains("502 Bad Gateway").contains("request id");
        assertThat(dead.headers().firstValue("x-request-id")).isPresent();
        // 404: an authority no route matches (curl sends its Host header as :authority)
        Process p = new ProcessBuilder("curl", "-sS", "--http2", "--cacert", certs.ca.toString(), "-H",
                "Host: other.example", "-o", "-", "-w", "\\n%{http_version} %{response_code}",
                uri("/x").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("404 Not Found: no route matches").endsWith("2 404");
    }

    @Test
    void fiftyMibDownloadAndUploadStreamInBoundedMemory() throws Exception {
        long size = 50L << 20;
        AtomicLong peak = new AtomicLong();
        ScheduledMemoryProbe probe = new ScheduledMemoryProbe(peak);
        try {
            // Download, read slowly at first: the proxy must stop reading the upstream, not buffer 50 MiB.
            HttpResponse<InputStream> down = client.send(HttpRequest.newBuilder(uri("/stream/download?size=" + size))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(down.version()).isEqualTo(HttpClient.Version.HTTP_2);
            CRC32 crc = new CRC32();
            long total = 0;
            byte[] buf = new byte[1 << 16];
            try (InputStream in = down.body()) {
                int n;
                boolean paused = false;
                while ((n = in.read(buf)) >= 0) {
                    crc.update(buf, 0, n);
                    total += n;
                    if (!paused && total > (1 << 20)) {
                        paused = true;
                        Thread.sleep(1500);
                    }
                }
            }
            assertThat(total).isEqualTo(size);
            assertThat(crc.getValue()).isEqualTo(PatternStream.crc(size));
            // Upload to a backend that stops reading for a while after the first MiB.
            HttpResponse<String> up = client.send(HttpRequest.newBuilder(uri("/stream/upload?pause=1500"))
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(size)), size))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(up.statusCode()).isEqualTo(200);
            assertThat(up.body()).isEqualTo(size + " " + Long.toHexString(PatternStream.crc(size)) + " length");
        } finally {
            probe.close();
        }
        System.out.println("h2 50 MiB down+up: peak direct memory in use " + (peak.get() >> 10) + " KiB");
        // Generous: flow-control windows and socket buffers, never the body.
        assertThat(peak.get()).as("peak direct memory in use").isLessThan(24L << 20);
    }

    /** Samples the allocator's direct memory in use every 10 ms. */
    private static final class ScheduledMemoryProbe implements AutoCloseable {
        private final java.util.concurrent.ScheduledExecutorService exec =
                Executors.newSingleThreadScheduledExecutor();

        ScheduledMemoryProbe(AtomicLong peak) {
            exec.scheduleAtFixedRate(() -> {
                long used = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
                peak.accumulateAndGet(used, Math::max);
            }, 0, 10, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            exec.shutdownNow();
        }
    }

    /** The slow backend: answers its request target after SLOW_MILLIS. */
    private static void answerSlowly(com.sun.net.httpserver.HttpExchange ex) throws java.io.IOException {
        try {
            Thread.sleep(SLOW_MILLIS);
            byte[] out = ex.getRequestURI().toString().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ex.close();
        }
    }
}
