package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** header_read_timeout, idle_timeout (client and upstream side), route timeout, stalled request bodies. */
class TimeoutTest {
    private static final int HEADER_MS = 400;
    private static final int IDLE_MS = 700;
    private static TestBackend backend;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start("be", ex -> {
            String path = ex.getRequestURI().getPath();
            byte[] body = TestBackend.drain(ex);
            if (path.contains("/slow")) {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    return;
                }
            } else {
                // slow requests are the expected ones that time out: only the others are recorded
                backendSeen(ex.getRequestMethod(), ex.getRequestURI().toString(), body);
            }
            byte[] out = ("be " + path).getBytes();
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        });
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    limits: { header_read_timeout: %dms, idle_timeout: %dms }
                    routes:
                      - match: { path_prefix: /timed }
                        upstream: be
                        timeout: 300ms
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(HEADER_MS, IDLE_MS, backend.address()));
    }

    private static final java.util.Queue<String> seen = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private static void backendSeen(String method, String uri, byte[] body) {
        seen.add(method + " " + uri + " " + body.length);
    }

    @AfterAll
    static void stop() {
        proxy.close();
        backend.close();
    }

    @AfterEach
    void clear() {
        seen.clear();
    }

    private static int port() {
        return proxy.port("web");
    }

    private static void assertStillServing() throws Exception {
        RawExchange.Result ok = RawExchange.send(port(),
                "GET /ok HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", 3000);
        assertThat(ok.status()).as(ok.text()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("be /ok");
    }

    @Test
    void slowHeadersGet408AndClose() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            c.write("GET /slowloris HT");
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.status()).as(r.text()).isEqualTo(408);
            assertThat(r.closed()).isTrue();
            assertThat(r.millis()).isBetween(HEADER_MS - 100L, HEADER_MS + 1500L);
        }
        assertThat(seen).isEmpty();
        assertStillServing();
    }

    @Test
    void headerDripDoesNotExtendTheHeaderTimeout() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            long start = System.nanoTime();
            c.write("GET /drip HTTP/1.1\r\n");
            // a byte every 100ms: each is activity, but header_read_timeout counts from the first byte
            boolean closed = false;
            for (int i = 0; i < 30 && !closed; i++) {
                Thread.sleep(100);
                try {
                    c.write("X");
                } catch (java.io.IOException e) {
                    closed = true;
                }
            }
            RawExchange.Result r = c.readUntilClose(3000);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.status()).as(r.text()).isEqualTo(408);
            assertThat(ms).isLessThan(HEADER_MS + 2000L);
        }
        assertThat(seen).isEmpty();
        assertStillServing();
    }

    @Test
    void slowHeadersOfASecondKeepAliveRequestGet408() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            c.write("GET /first HTTP/1.1\r\nHost: good\r\n\r\n");
            assertThat(c.readResponse(3000).status()).isEqualTo(200);
            c.write("GET /second HTTP/1.1\r\nHo");
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.status()).as(r.text()).isEqualTo(408);
            assertThat(r.closed()).isTrue();
            assertThat(r.millis()).isBetween(HEADER_MS - 100L, HEADER_MS + 1500L);
        }
        assertThat(seen).containsExactly("GET /first 0");
    }

    @Test
    void connectionWithoutAnyRequestIsClosedAfterHeaderTimeout() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.closed()).isTrue();
            assertThat(r.millis()).isLessThan(HEADER_MS + 1500L);
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosed() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            c.write("GET /first HTTP/1.1\r\nHost: good\r\n\r\n");
            RawExchange.Result first = c.readResponse(3000);
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.closed()).isFalse();
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.closed()).as("closed after idle_timeout").isTrue();
            assertThat(r.text()).isEmpty();
            assertThat(r.millis()).isBetween(IDLE_MS - 150L, IDLE_MS + 1500L);
        }
        assertStillServing();
    }

    @Test
    void routeTimeoutShorterThanTheUpstreamIs504() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET /timed/slow HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", 5000);
        assertThat(r.status()).as(r.text()).isEqualTo(504);
        assertThat(r.millis()).isBetween(250L, 1500L);
        assertThat(r.body()).contains("timeout");
        assertStillServing();
    }

    @Test
    void routeTimeoutOnKeepAliveConnectionKeepsServing() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            c.write("GET /timed/slow HTTP/1.1\r\nHost: good\r\n\r\n");
            RawExchange.Result r = c.readResponse(5000);
            assertThat(r.status()).as(r.text()).isEqualTo(504);
            // the request was complete, so the connection stays usable for the next one
            assertThat(r.closed()).isFalse();
            assertThat(r.header("Connection")).isNull();
            c.write("GET /timed/fast HTTP/1.1\r\nHost: good\r\n\r\n");
            RawExchange.Result next = c.readResponse(3000);
            assertThat(next.status()).as(next.text()).isEqualTo(200);
            assertThat(next.body()).isEqualTo("be /timed/fast");
        }
    }

    @Test
    void upstreamSlowerThanIdleTimeoutIs504() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET /slow HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", 5000);
        assertThat(r.status()).as(r.text()).isEqualTo(504);
        assertThat(r.millis()).isBetween(IDLE_MS - 150L, IDLE_MS + 1500L);
        assertStillServing();
    }

    @Test
    void stalledRequestBodyIs408() throws Exception {
        try (RawExchange c = new RawExchange(port())) {
            c.write("POST /stall HTTP/1.1\r\nHost: good\r\nContent-Length: 100\r\n\r\n0123456789");
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.status()).as(r.text()).isEqualTo(408);
            assertThat(r.closed()).isTrue();
            assertThat(r.millis()).isBetween(IDLE_MS - 150L, IDLE_MS + 1500L);
        }
        assertThat(seen).isEmpty();
        assertStillServing();
    }
}
