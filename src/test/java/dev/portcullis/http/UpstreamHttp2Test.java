package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.H2Backend;
import dev.portcullis.testing.PatternStream;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestCerts;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import dev.portcullis.upstream.Endpoint;
import io.netty.pkitesting.X509Bundle;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code protocol: http2} (TLS + ALPN h2) and {@code h2c} upstreams, with HTTP/1.1 clients in front: requests
 * multiplexed as streams over few connections (more when the endpoint's concurrent-stream limit is reached),
 * header mapping (:scheme, :authority, TE: trailers), trailers relayed as chunked trailers, large bodies both
 * ways with flow control, GOAWAY under load without failed requests, clear failures when the endpoint does not
 * speak HTTP/2, and health checks over HTTP/2.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamHttp2Test {
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final X509Bundle CA = TestCerts.ca("Portcullis H2 Test CA");
    static final Path CA_PEM = TestCerts.caPem(CA);
    static final String TLS = ", protocol: http2, tls: { sni: backend.test, ca: " + CA_PEM.toString().replace('\\', '/')
            + " }";

    static H2Backend h2Tls(String name) throws Exception {
        return H2Backend.builder(name).tls(TestCerts.server(CA, "backend.test")).alpn("h2").start();
    }

    static HttpResponse<String> get(TestProxy p, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void http2OverTlsWithAlpn() throws Exception {
        try (H2Backend b = h2Tls("h2");
             TestProxy p = TestProxy.toOneUpstream(b.address(), "", TLS)) {
            HttpResponse<String> r = get(p, "/hello?x=1");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("h2 h2 GET /hello?x=1");
            assertThat(r.headers().map().keySet()).noneMatch(h -> h.startsWith("x-http2"));
            H2Backend.Seen s = b.seen.peek();
            assertThat(s.header("x-http2-scheme")).as(":scheme").isEqualTo("https");
            assertThat(s.header("host")).as(":authority from Host").isEqualTo("127.0.0.1:" + p.port("web"));
            assertThat(s.header("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(s.headers()).doesNotContainKeys("connection", "keep-alive", "transfer-encoding", "upgrade");
            assertThat(b.sniNames).containsOnly("backend.test");
        }
    }

    @Test
    void h2cWithPriorKnowledge() throws Exception {
        try (H2Backend b = H2Backend.builder("c").h2c().start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "", ", protocol: h2c")) {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/post"))
                    .POST(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("c h2c POST /post 5");
            assertThat(b.seen.peek().header("x-http2-scheme")).isEqualTo("http");
            // 204 and HEAD: a response that ends with its headers
            HttpResponse<String> head = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/h"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(get(p, "/after-head").body()).isEqualTo("c h2c GET /after-head");
        }
    }

    @Test
    void http2ToAnEndpointThatDoesNotSelectH2FailsClearly() throws Exception {
        try (H2Backend b = H2Backend.builder("h1").tls(TestCerts.server(CA, "backend.test")).alpn("http/1.1").start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "", TLS)) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("the endpoint did not select HTTP/2").doesNotContain("127.0.0.1");
        }
        try (TestBackend plain = TestBackend.start("plain");
             TestProxy p = TestProxy.toOneUpstream(plain.address(), "", ", protocol: h2c")) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("the endpoint does not speak HTTP/2 (h2c)");
            assertThat(get(p, "/again").statusCode()).as("still serving").isEqualTo(502);
        }
    }

    @Test
    void concurrentRequestsShareFewConnections() throws Exception {
        try (H2Backend b = h2Tls("m");
             TestProxy p = TestProxy.toOneUpstream(b.address(), "workers: 2\n", TLS)) {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                all.add(CLIENT.sendAsync(HttpRequest.newBuilder(p.uri("web", "/slow?ms=300")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            assertThat(b.connections.get()).as("one connection per event loop").isLessThanOrEqualTo(2);
            assertThat(b.maxOpenStreams.get()).as("streams in flight together").isGreaterThan(5);
        }
    }

    @Test
    void theEndpointsStreamLimitOpensMoreConnections() throws Exception {
        try (H2Backend b = H2Backend.builder("lim").h2c().maxConcurrentStreams(4).start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "workers: 1\n", ", protocol: h2c")) {
            assertThat(get(p, "/warm").statusCode()).isEqualTo(200); // the limit is known from then on
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(CLIENT.sendAsync(HttpRequest.newBuilder(p.uri("web", "/slow?ms=300")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            assertThat(b.connections.get()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void anIdleHttp2ConnectionStaysForTheIdleTimeoutThenCloses() throws Exception {
        try (H2Backend b = H2Backend.builder("idle").h2c().start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "workers: 1\n",
                     ", protocol: h2c, keepalive: { idle_timeout: 1500ms }")) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            Thread.sleep(300);
            assertThat(get(p, "/2").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).as("reused while idle").isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> b.openConnections() == 0);
            assertThat(get(p, "/3").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).isEqualTo(2);
        }
        try (H2Backend b = H2Backend.builder("none").h2c().start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "workers: 1\n",
                     ", protocol: h2c, keepalive: { max_idle_per_endpoint: 0 }")) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> b.openConnections() == 0);
        }
    }

    @Test
    void largeBodiesStreamBothWays() throws Exception {
        long size = 24L * 1024 * 1024;
        try (H2Backend b = H2Backend.builder("big").h2c().start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "", ", protocol: h2c")) {
            HttpResponse<InputStream> down = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/download?size=" + size))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(down.statusCode()).isEqualTo(200);
            assertThat(crcOf(down.body())).isEqualTo(new long[] {size, PatternStream.crc(size)});

            HttpResponse<String> up = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/upload"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(size))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(up.body()).isEqualTo(size + " " + Long.toHexString(PatternStream.crc(size)));

            long echo = 8L * 1024 * 1024;
            HttpResponse<InputStream> back = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(echo))).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(crcOf(back.body())).isEqualTo(new long[] {echo, PatternStream.crc(echo)});
        }
    }

    static long[] crcOf(InputStream in) throws Exception {
        try (in) {
            CRC32 crc = new CRC32();
            byte[] buf = new byte[64 * 1024];
            long n = 0;
            int r;
            while ((r = in.read(buf)) >= 0) {
                crc.update(buf, 0, r);
                n += r;
            }
            return new long[] {n, crc.getValue()};
        }
    }

    @Test
    void trailersReachHttp11ClientsAsChunkedTrailersAndTeTrailersIsKept() throws Exception {
        try (H2Backend b = h2Tls("t");
             TestProxy p = TestProxy.toOneUpstream(b.address(), "", TLS);
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /trailers HTTP/1.1\r\nHost: grpc.test\r\nTE: trailers, deflate\r\nConnection: TE, X-Hop\r\n"
                    + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Hop: 1\r\nX-End: 2\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(res.bodyText()).isEqualTo("payload");
            assertThat(res.trailer("grpc-status")).isEqualTo("0");
            assertThat(res.trailer("x-checksum")).isEqualTo("42");
            H2Backend.Seen seen = b.seen.peek();
            assertThat(seen.header("te")).isEqualTo("trailers");
            assertThat(seen.headers()).doesNotContainKeys("connection", "keep-alive", "proxy-connection", "x-hop")
                    .containsKey("x-end");
            assertThat(seen.header("host")).isEqualTo("grpc.test");
        }
    }

    @Test
    void goAwayUnderLoadFailsNoIdempotentRequest() throws Exception {
        try (H2Backend b = H2Backend.builder("ga").h2c().start();
             TestProxy p = TestProxy.toOneUpstream(b.address(), "workers: 2\n", ", protocol: h2c")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            for (int t = 0; t < 8; t++) {
                pool.execute(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = get(p, "/slow?ms=" + (ok.get() % 3 == 0 ? 30 : 2));
                            if (r.statusCode() == 200) {
                                ok.incrementAndGet();
                            } else {
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                });
            }
            for (int i = 0; i < 12; i++) {
                Thread.sleep(200);
                b.goAwayAll();
            }
            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            assertThat(failures).isEmpty();
            assertThat(ok.get()).isGreaterThan(100);
            assertThat(b.connections.get()).as("new connections after each GOAWAY").isGreaterThan(5);
        }
    }

    @Test
    void httpHealthChecksSpeakHttp2ToH2AndH2cUpstreams() throws Exception {
        String check = ", health_check: { http: { path: /healthz }, interval: 200ms, timeout: 200ms, "
                + "healthy_threshold: 1, unhealthy_threshold: 1 }";
        try (H2Backend c = H2Backend.builder("c").h2c().start();
             H2Backend t = h2Tls("t");
             TestProxy p = TestProxy.start("""
                     listeners:
                       - { name: web, bind: 127.0.0.1:0, routes: [ { upstream: clear } ] }
                     upstreams:
                       clear: { endpoints: [%s], protocol: h2c %s }
                       tls: { endpoints: [%s] %s %s }
                     """.formatted(c.address(), check, t.address(), TLS, check))) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    c.seen.stream().filter(s -> s.uri().equals("/healthz")).count() >= 3
                            && t.seen.stream().filter(s -> s.uri().equals("/healthz")).count() >= 3);
            assertThat(c.seen).allSatisfy(s -> assertThat(s.protocol()).isEqualTo("h2c"));
            assertThat(t.seen).allSatisfy(s -> assertThat(s.protocol()).isEqualTo("h2"));
            for (String u : List.of("clear", "tls")) {
                Endpoint e = p.process().snapshot().upstreams().get(u).endpoints().get(0);
                assertThat(e.state().healthy()).as(u).isTrue();
            }
        }
    }
}
