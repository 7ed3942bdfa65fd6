package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.H2Wire;
import dev.portcullis.testing.TestProxy;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The end of HTTP/2 connections: graceful GOAWAY on reload (listener removed) and on shutdown with streams in flight
 * that still complete, new streams after it not processed; idle and header-read timeouts; a stalled stream timing
 * out alone; a reload that keeps the listener keeps the connection and serves new streams with the new routes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Http2DrainTest {
    private static final long NO_ERROR = 0;

    private HttpServer slow;
    private ExecutorService pool;
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile CountDownLatch release = new CountDownLatch(0);

    @BeforeAll
    void start() throws Exception {
        pool = Executors.newCachedThreadPool();
        slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        slow.createContext("/", ex -> {
            try {
                ex.getRequestBody().readAllBytes(); // a stalled upload stalls the backend too
                arrived.incrementAndGet();
                release.await(30, TimeUnit.SECONDS);
                byte[] out = ("done " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, out.length);
                ex.getResponseBody().write(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ex.close();
            }
        });
        slow.setExecutor(pool);
        slow.start();
    }

    @AfterAll
    void stop() {
        slow.stop(0);
        pool.shutdownNow();
    }

    @BeforeEach
    void reset() {
        arrived.set(0);
    }

    private String yaml(boolean withWeb, String limits, String body) {
        String web = !withWeb ? "" : """
                  - name: web
                    bind: 127.0.0.1:0
                    limits: { %s }
                    routes:
                      - match: { path_prefix: /slow/ }
                        upstream: slow
                      - match: { path_prefix: / }
                        respond: { status: 200, body: %s }
                """.formatted(limits, body);
        return """
                listeners:
                %s  - name: other
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        respond: { status: 200, body: other }
                upstreams:
                  slow: { endpoints: [127.0.0.1:%d] }
                """.formatted(web, slow.getAddress().getPort());
    }

    /** Streams 1, 3, 5 wait in the backend; {@code drain} runs; they complete after a GOAWAY naming stream 5. */
    private void inFlightStreamsCompleteAfterGoAway(TestProxy proxy, Runnable drain) throws Exception {
        release = new CountDownLatch(1);
        try (H2Wire c = new H2Wire(proxy.port("web"))) {
            for (int s = 1; s <= 5; s += 2) {
                c.headers(s, H2Wire.get("/slow/" + s, "h"), true);
            }
            c.flush();
            long deadline = System.currentTimeMillis() + 10_000;
            while (arrived.get() < 3 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertThat(arrived.get()).isEqualTo(3);
            Thread drainer = new Thread(drain, "drain");
            drainer.start();
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(10_000);
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(NO_ERROR);
            assertThat(goAway.lastStreamId()).isEqualTo(5);
            // A stream opened after the GOAWAY is not processed.
            c.headers(7, H2Wire.get("/slow/7", "h"), true);
            c.flush();
            release.countDown();
            for (int s = 1; s <= 5; s += 2) {
                H2Wire.Response r = c.response(s);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("done /slow/" + s);
            }
            assertThat(c.closedWithin(10_000)).as("closed once its streams are done").isTrue();
            drainer.join(20_000);
            assertThat(arrived.get()).isEqualTo(3);
        } finally {
            release.countDown();
        }
    }

    @Test
    void goAwayOnReloadRemovingTheListener() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(true, "", "ok"))) {
            inFlightStreamsCompleteAfterGoAway(proxy, () -> {
                ReloadOutcome out = proxy.reload(yaml(false, "", "ok"));
                assertThat(out).isInstanceOf(ReloadOutcome.Applied.class);
            });
        }
    }

    @Test
    void goAwayOnShutdown() throws Exception {
        TestProxy proxy = TestProxy.start("shutdown_timeout: 20s\n" + yaml(true, "", "ok"));
        inFlightStreamsCompleteAfterGoAway(proxy, proxy::close);
    }

    @Test
    void reloadKeepingTheListenerKeepsTheConnection() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(true, "", "before"));
             H2Wire c = new H2Wire(proxy.port("web"))) {
            c.headers(1, H2Wire.get("/", "h"), true);
            c.flush();
            assertThat(c.response(1).text()).isEqualTo("before");
            String next = yaml(true, "", "after").replace("bind: 127.0.0.1:0\n                    limits",
                    "bind: 127.0.0.1:" + proxy.port("web") + "\n                    limits");
            next = next.replace("name: other\n                    bind: 127.0.0.1:0",
                    "name: other\n                    bind: 127.0.0.1:" + proxy.port("other"));
            assertThat(proxy.reload(next)).isInstanceOf(ReloadOutcome.Applied.class);
            c.headers(3, H2Wire.get("/", "h"), true);
            c.flush();
            assertThat(c.response(3).text()).isEqualTo("after");
        }
    }

    @Test
    void idleConnectionGetsGoAway() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(true, "idle_timeout: 1s", "ok"));
             H2Wire c = new H2Wire(proxy.port("web"))) {
            c.headers(1, H2Wire.get("/", "h"), true);
            c.flush();
            assertThat(c.response(1).status()).isEqualTo(200);
            long start = System.nanoTime();
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(15_000);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(NO_ERROR);
            assertThat(goAway.lastStreamId()).isEqualTo(1);
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(500);
            assertThat(c.closedWithin(10_000)).isTrue();
        }
    }

    @Test
    void connectionWithoutARequestGetsGoAwayAfterHeaderReadTimeout() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(true, "header_read_timeout: 1s", "ok"));
             H2Wire c = new H2Wire(proxy.port("web"))) {
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(15_000);
            assertThat(goAway).isNotNull();
            assertThat(goAway.lastStreamId()).isZero();
            assertThat(c.closedWithin(10_000)).isTrue();
        }
    }

    @Test
    void aStalledUploadTimesOutAloneWhileOtherStreamsGoOn() throws Exception {
        try (TestProxy proxy = TestProxy.start(yaml(true, "idle_timeout: 1s", "ok"));
             H2Wire c = new H2Wire(proxy.port("web"))) {
            c.headers(1, new DefaultHttp2Headers().method("POST").scheme("http").path("/slow/stalled").authority("h"),
                    false);
            c.data(1, new byte[10], false);
            c.flush();
            H2Wire.Response stalled = c.response(1);
            assertThat(stalled.status()).isEqualTo(408);
            c.headers(3, H2Wire.get("/", "h"), true);
            c.flush();
            assertThat(c.response(3).status()).isEqualTo(200);
        }
    }
}
