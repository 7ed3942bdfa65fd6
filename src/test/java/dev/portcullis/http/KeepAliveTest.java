package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Client keep-alive, upstream connection pooling, pipelining. */
class KeepAliveTest {
    static final String YAML = """
            listeners:
              - name: web
                bind: 127.0.0.1:0
                routes:
                  - match: { path_prefix: / }
                    upstream: be
            upstreams:
              be:
                endpoints: [%s]
                keepalive: { max_idle_per_endpoint: %d }
            """;

    static RawBackend echoPath() throws IOException {
        return RawBackend.serving((req, out) -> {
            String path = req.startLine().split(" ")[1];
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path);
            return true;
        });
    }

    static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    static void sequential(int port, int n) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            for (int i = 0; i < n; i++) {
                write(s, "GET /r" + i + " HTTP/1.1\r\nHost: h\r\n\r\n");
                Wire.Message res = Wire.readResponse(in, false);
                assertThat(res.status()).isEqualTo(200);
                assertThat(res.bodyText()).isEqualTo("/r" + i);
                assertThat(res.header("Connection")).isNull();
            }
        }
    }

    @Test
    void sequentialRequestsReuseUpstreamConnections() throws Exception {
        try (RawBackend be = echoPath(); TestProxy p = TestProxy.start(YAML.formatted(be.address(), 64))) {
            sequential(p.port("web"), 20);
            assertThat(be.requests).hasSize(20);
            assertThat(be.accepted.get()).isBetween(1, 2);
        }
    }

    @Test
    void noPoolingClosesAfterEachRequest() throws Exception {
        try (RawBackend be = echoPath(); TestProxy p = TestProxy.start(YAML.formatted(be.address(), 0))) {
            sequential(p.port("web"), 5);
            assertThat(be.requests).hasSize(5);
            assertThat(be.accepted.get()).isEqualTo(5);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawBackend be = echoPath(); TestProxy p = TestProxy.start(YAML.formatted(be.address(), 64));
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            write(s, "GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /three HTTP/1.1\r\nHost: h\r\n\r\n");
            InputStream in = s.getInputStream();
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("/one");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("/two");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("/three");
        }
    }

    @Test
    void pipelinedMixOfLocalAndProxiedRepliesStaysInOrder() throws Exception {
        try (RawBackend be = echoPath(); TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path: /local }
                        respond: { status: 200, body: local }
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(be.address()));
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            write(s, "GET /up1 HTTP/1.1\r\nHost: h\r\n\r\nGET /local HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "POST /up2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /local HTTP/1.1\r\nHost: h\r\n\r\n");
            InputStream in = s.getInputStream();
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("/up1");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("local");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("/up2");
            assertThat(Wire.readResponse(in, false).bodyText()).isEqualTo("local");
        }
    }

    @Test
    void upstreamConnectionCloseIsNotPooledAndClientStaysOpen() throws Exception {
        try (RawBackend be = RawBackend.serving((req, out) -> {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
                return false;
            });
             TestProxy p = TestProxy.start(YAML.formatted(be.address(), 64));
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                write(s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
                Wire.Message res = Wire.readResponse(in, false);
                assertThat(res.bodyText()).isEqualTo("ok");
                assertThat(res.header("Connection")).as("the upstream's Connection: close is hop-by-hop").isNull();
            }
            assertThat(be.accepted.get()).isEqualTo(3);
        }
    }

    /**
     * A burst above max_idle_per_endpoint keeps its connections for the next burst (closing the surplus at once
     * made every burst open new ones); the sweep closes the surplus once it has been idle a whole second.
     */
    @Test
    void burstAboveMaxIdleReusesItsConnectionsAndTheSurplusIsTrimmedLater() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        AtomicReference<CountDownLatch> burst = new AtomicReference<>(new CountDownLatch(3));
        try (RawBackend be = RawBackend.start((self, in, out) -> {
                Wire.Message req;
                while ((req = Wire.readRequest(in)) != null) {
                    self.requests.add(req);
                    CountDownLatch all = burst.get();
                    all.countDown(); // answer only when the whole burst is in: three connections at once
                    try {
                        all.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    out.flush();
                }
                closed.incrementAndGet();
            });
             TestProxy p = TestProxy.start("workers: 1\n" + YAML.formatted(be.address(), 1))) {
            ExecutorService clients = Executors.newFixedThreadPool(3);
            try {
                concurrently(clients, p.port("web"), 3);
                assertThat(be.accepted.get()).isEqualTo(3);
                burst.set(new CountDownLatch(3));
                concurrently(clients, p.port("web"), 3);
                assertThat(be.accepted.get()).as("the second burst reuses the first one's connections").isEqualTo(3);
                assertThat(closed.get()).isZero();

                burst.set(new CountDownLatch(1));
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> closed.get() == 2);
                concurrently(clients, p.port("web"), 1);
                concurrently(clients, p.port("web"), 1);
                assertThat(be.accepted.get()).as("the connection kept within max_idle_per_endpoint serves").isEqualTo(3);
            } finally {
                clients.shutdownNow();
            }
        }
    }

    static void concurrently(ExecutorService clients, int port, int n) throws Exception {
        List<Future<Integer>> done = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            done.add(clients.submit(() -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(5000);
                    write(s, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
                    return Wire.readResponse(s.getInputStream(), false).status();
                }
            }));
        }
        for (Future<Integer> f : done) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(200);
        }
    }
}
