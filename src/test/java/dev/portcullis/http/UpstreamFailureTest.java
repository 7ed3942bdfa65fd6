package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.net.Socket;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Upstreams that refuse, vanish, break their replies or close pooled connections. */
class UpstreamFailureTest {
    private static final int TIMEOUT = 5000;

    private static TestProxy proxy(String endpoints) throws Exception {
        return proxy(endpoints, "");
    }

    private static TestProxy proxy(String endpoints, String top) throws Exception {
        return TestProxy.toOneUpstream(endpoints, top, ", connect_timeout: 2s");
    }

    private static RawExchange.Result get(TestProxy p, String path) throws Exception {
        return RawExchange.send(p.port("web"),
                "GET " + path + " HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", TIMEOUT);
    }

    @Test
    void connectionRefusedIs502WithoutTheBackendAddress() throws Exception {
        int dead = ScriptedBackend.closedPort();
        try (TestProxy p = proxy("127.0.0.1:" + dead)) {
            RawExchange.Result r = get(p, "/x");
            assertThat(r.status()).as(r.text()).isEqualTo(502);
            assertThat(r.body()).containsIgnoringCase("connect").containsIgnoringCase("refused");
            assertThat(r.text()).doesNotContain(String.valueOf(dead)).doesNotContain("127.0.0.1");
            RawExchange.Result json = RawExchange.send(p.port("web"),
                    "GET /x HTTP/1.1\r\nHost: good\r\nAccept: application/json\r\nConnection: close\r\n\r\n", TIMEOUT);
            assertThat(json.status()).isEqualTo(502);
            assertThat(json.text()).doesNotContain(String.valueOf(dead)).doesNotContain("127.0.0.1");
        }
    }

    @Test
    void errorToAHeadRequestHasNoBodyAndKeepsTheConnection() throws Exception {
        int dead = ScriptedBackend.closedPort();
        try (TestProxy p = proxy("127.0.0.1:" + dead); RawExchange c = new RawExchange(p.port("web"))) {
            c.write("HEAD /x HTTP/1.1\r\nHost: good\r\nX-Request-Id: head-1\r\n\r\n");
            RawExchange.Result r = c.readUntilClose(500);
            assertThat(r.status()).as(r.text()).isEqualTo(502);
            assertThat(r.header("X-Request-Id")).isEqualTo("head-1");
            assertThat(r.body()).isEmpty();
            assertThat(r.closed()).isFalse();
            c.write("GET /y HTTP/1.1\r\nHost: good\r\nX-Request-Id: get-2\r\n\r\n");
            RawExchange.Result next = c.readResponse(TIMEOUT);
            assertThat(next.status()).isEqualTo(502);
            assertThat(next.body()).contains("get-2");
        }
    }

    @Test
    void deadEndpointIsSkippedOnConnectFailure() throws Exception {
        int dead = ScriptedBackend.closedPort();
        try (TestBackend live = TestBackend.start("live");
             TestProxy p = proxy("127.0.0.1:" + dead + ", " + live.address())) {
            for (int i = 0; i < 8; i++) {
                RawExchange.Result r = get(p, "/f" + i);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("live GET /f" + i);
            }
            assertThat(live.seen).hasSize(8);
        }
    }

    @Test
    void upstreamClosingWithoutAnswerIs502() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address())) {
                RawExchange.Result r = get(p, "/x");
                assertThat(r.status()).as(r.text()).isEqualTo(502);
                assertThat(r.body()).contains("closed");
                assertThat(r.text()).doesNotContain(String.valueOf(be.port()));
                assertThat(be.heads).hasSize(1);
            }
        }
    }

    @Test
    void garbageStatusLineIs502() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "garbage here\r\nContent-Length: 2\r\n\r\nhi");
            Thread.sleep(2000);
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address())) {
                RawExchange.Result r = get(p, "/x");
                assertThat(r.status()).as(r.text()).isEqualTo(502);
                assertThat(r.text()).doesNotContain("garbage");
                assertThat(r.millis()).isLessThan(1500);
            }
        }
    }

    @Test
    void upstreamClosingMidBodyAbortsTheClientAndTheProxyGoesOn() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            String head = be0(s).readHead(s);
            if (head.startsWith("GET /cut")) {
                ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
                Thread.sleep(100);
            } else {
                ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            }
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address())) {
                // keep-alive on the client side: only the proxy closing the connection ends the read
                RawExchange.Result r = RawExchange.send(p.port("web"), "GET /cut HTTP/1.1\r\nHost: good\r\n\r\n",
                        TIMEOUT);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("Content-Length")).isEqualTo("1000");
                assertThat(r.body()).isEqualTo("0123456789");
                assertThat(r.closed()).as("client connection cut").isTrue();
                assertThat(r.millis()).isLessThan(TIMEOUT);
                RawExchange.Result next = get(p, "/next");
                assertThat(next.status()).isEqualTo(200);
                assertThat(next.body()).isEqualTo("ok");
            }
        }
    }

    @Test
    void upstreamClosingAnIdlePooledConnectionIsReplaced() throws Exception {
        // Each connection answers one request with keep-alive, then the upstream closes it while idle.
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nc" + i
                    + "ok".substring(0, 4 - 1 - String.valueOf(i).length()));
            Thread.sleep(100);
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address(), "workers: 1\n"); RawExchange c = new RawExchange(p.port("web"))) {
                c.write("GET /1 HTTP/1.1\r\nHost: good\r\n\r\n");
                RawExchange.Result first = c.readResponse(TIMEOUT);
                assertThat(first.status()).isEqualTo(200);
                Thread.sleep(400);
                c.write("GET /2 HTTP/1.1\r\nHost: good\r\n\r\n");
                RawExchange.Result second = c.readResponse(TIMEOUT);
                assertThat(second.status()).as(second.text()).isEqualTo(200);
                assertThat(be.connections.get()).isEqualTo(2);
            }
        }
    }

    @Test
    void pooledConnectionClosedWhenReusedIsRetriedOnAFreshOneForIdempotentRequests() throws Exception {
        // The upstream keeps the connection open after the first response, but closes it without answering
        // the second request on it (the race of an idle close with a new request).
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
            be0(s).readHead(s);
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address(), "workers: 1\n"); RawExchange c = new RawExchange(p.port("web"))) {
                c.write("GET /1 HTTP/1.1\r\nHost: good\r\n\r\n");
                assertThat(c.readResponse(TIMEOUT).status()).isEqualTo(200);
                c.write("GET /2 HTTP/1.1\r\nHost: good\r\n\r\n");
                RawExchange.Result second = c.readResponse(TIMEOUT);
                assertThat(second.status()).as(second.text()).isEqualTo(200);
                assertThat(be.connections.get()).isEqualTo(2);
                // a POST with a body is not replayed: the upstream may have acted on it
                c.write("POST /3 HTTP/1.1\r\nHost: good\r\nContent-Length: 3\r\n\r\nabc");
                RawExchange.Result third = c.readResponse(TIMEOUT);
                assertThat(third.status()).as(third.text()).isEqualTo(502);
            }
        }
    }

    @Test
    void upstreamThatNeverAnswersIs504WithinIdleTimeout() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            Thread.sleep(10_000);
        })) {
            holder = be;
            try (TestProxy p = TestProxy.start("""
                    listeners:
                      - name: web
                        bind: 127.0.0.1:0
                        limits: { idle_timeout: 600ms }
                        routes:
                          - match: { path_prefix: / }
                            upstream: be
                    upstreams:
                      be: { endpoints: [%s] }
                    """.formatted(be.address()))) {
                RawExchange.Result r = get(p, "/x");
                assertThat(r.status()).as(r.text()).isEqualTo(504);
                assertThat(r.millis()).isBetween(500L, 2500L);
                assertThat(r.text()).doesNotContain(String.valueOf(be.port()));
            }
        }
    }

    @Test
    void allEndpointsDeadIs502() throws Exception {
        int dead1 = ScriptedBackend.closedPort();
        int dead2 = ScriptedBackend.closedPort();
        try (TestProxy p = proxy("127.0.0.1:" + dead1 + ", 127.0.0.1:" + dead2)) {
            RawExchange.Result r = get(p, "/x");
            assertThat(r.status()).as(r.text()).isEqualTo(502);
            assertThat(r.body()).contains("no endpoint could be reached");
            assertThat(r.text()).doesNotContain(String.valueOf(dead1)).doesNotContain(String.valueOf(dead2));
        }
    }

    @Test
    void closeDelimitedUpstreamBodyIsRechunkedForTheClient() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello ");
            Thread.sleep(50);
            ScriptedBackend.write(s, "world");
            s.close();
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address()); RawExchange c = new RawExchange(p.port("web"))) {
                c.write("GET /x HTTP/1.1\r\nHost: good\r\n\r\n");
                RawExchange.Result r = c.readUntilClose(1500);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("Transfer-Encoding")).isEqualToIgnoringCase("chunked");
                assertThat(r.body()).contains("hello ").contains("world").endsWith("0\r\n\r\n");
                // a complete response: the client connection stays usable
                assertThat(r.closed()).isFalse();
            }
        }
    }

    @Test
    void brokenChunkedUpstreamBodyCutsTheClient() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
            Thread.sleep(2000);
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address())) {
                RawExchange.Result r = RawExchange.send(p.port("web"), "GET /x HTTP/1.1\r\nHost: good\r\n\r\n",
                        TIMEOUT);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.closed()).isTrue();
                assertThat(r.millis()).isLessThan(1500);
                assertThat(r.body()).doesNotEndWith("0\r\n\r\n");
            }
        }
    }

    @Test
    void upstreamStallingMidBodyIsCutAfterIdleTimeout() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            Thread.sleep(10_000);
        })) {
            holder = be;
            try (TestProxy p = TestProxy.start("""
                    listeners:
                      - name: web
                        bind: 127.0.0.1:0
                        limits: { idle_timeout: 500ms }
                        routes:
                          - match: { path_prefix: / }
                            upstream: be
                    upstreams:
                      be: { endpoints: [%s] }
                    """.formatted(be.address()))) {
                RawExchange.Result r = RawExchange.send(p.port("web"), "GET /x HTTP/1.1\r\nHost: good\r\n\r\n",
                        TIMEOUT);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("0123456789");
                assertThat(r.closed()).isTrue();
                assertThat(r.millis()).isBetween(400L, 2500L);
            }
        }
    }

    @Test
    void unaskedForUpstreamDataNeverAnswersTheNextRequest() throws Exception {
        for (int delay : new int[] {0, 150}) {
            try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
                be0(s).readHead(s);
                ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                if (delay > 0) {
                    Thread.sleep(delay);
                }
                ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
                while (be0(s).readHead(s) != null) {
                    ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood");
                }
            })) {
                holder = be;
                try (TestProxy p = proxy(be.address(), "workers: 1\n");
                     RawExchange c = new RawExchange(p.port("web"))) {
                    c.write("GET /1 HTTP/1.1\r\nHost: good\r\n\r\n");
                    assertThat(c.readResponse(TIMEOUT).body()).isEqualTo("ok");
                    Thread.sleep(delay + 100);
                    c.write("GET /2 HTTP/1.1\r\nHost: good\r\n\r\n");
                    RawExchange.Result second = c.readResponse(TIMEOUT);
                    assertThat(second.status()).as(second.text()).isEqualTo(200);
                    // "ok" from a fresh connection (the polluted one was dropped) or "good" from the same one
                    assertThat(second.body()).isIn("ok", "good");
                    assertThat(second.body()).as("delay " + delay).doesNotContain("evil");
                }
            }
        }
    }

    @Test
    void upstreamResponseWithContentLengthAndChunkedIs502() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n");
            Thread.sleep(1000);
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address()); RawExchange c = new RawExchange(p.port("web"))) {
                c.write("GET /x HTTP/1.1\r\nHost: good\r\n\r\n");
                RawExchange.Result r = c.readUntilClose(700);
                // an ambiguous framing is refused as a broken reply, never relayed (RFC 9112 §6.3 allows both)
                assertThat(r.status()).as(r.text()).isEqualTo(502);
                assertThat(r.text()).doesNotContain("hello");
            }
        }
    }

    static Stream<Arguments> invalidUpstreamHeads() {
        return Stream.of(
                Arguments.of("oversized head", "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(70 * 1024)
                        + "\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of("101 switching protocols",
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
                Arguments.of("differing Content-Length values",
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidUpstreamHeads")
    void invalidUpstreamHeadIs502(String what, String response) throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            be0(s).readHead(s);
            ScriptedBackend.write(s, response);
            Thread.sleep(1000);
        })) {
            holder = be;
            try (TestProxy p = proxy(be.address())) {
                RawExchange.Result r = get(p, "/x");
                assertThat(r.status()).as(r.text()).isEqualTo(502);
            }
        }
    }

    @Test
    void connectTimeoutIs504() throws Exception {
        // A listening socket that never accepts, with its accept queue full: Linux drops further SYNs, so a
        // connect neither succeeds nor fails until the proxy's connect_timeout.
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            java.util.List<Socket> fillers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Socket f = new Socket();
                    try {
                        f.connect(full.getLocalSocketAddress(), 200);
                        fillers.add(f);
                    } catch (java.io.IOException e) {
                        f.close();
                        break; // the queue is full
                    }
                }
                org.junit.jupiter.api.Assumptions.assumeTrue(fillers.size() < 4,
                        "this OS does not drop SYNs on a full accept queue");
                try (TestProxy p = TestProxy.start("""
                        listeners:
                          - name: web
                            bind: 127.0.0.1:0
                            routes:
                              - match: { path_prefix: / }
                                upstream: be
                        upstreams:
                          be: { endpoints: [127.0.0.1:%d], connect_timeout: 300ms }
                        """.formatted(full.getLocalPort()))) {
                    RawExchange.Result r = get(p, "/x");
                    assertThat(r.status()).as(r.text()).isEqualTo(504);
                    assertThat(r.millis()).isBetween(250L, 2500L);
                    assertThat(r.text()).doesNotContain(String.valueOf(full.getLocalPort()));
                }
                // with a live endpoint beside it, the timed-out one is skipped
                try (TestBackend live = TestBackend.start("live"); TestProxy p = TestProxy.start("""
                        listeners:
                          - name: web
                            bind: 127.0.0.1:0
                            routes:
                              - match: { path_prefix: / }
                                upstream: be
                        upstreams:
                          be: { endpoints: [127.0.0.1:%d, %s], connect_timeout: 300ms }
                        """.formatted(full.getLocalPort(), live.address()))) {
                    for (int i = 0; i < 4; i++) {
                        RawExchange.Result r = get(p, "/t" + i);
                        assertThat(r.status()).as(r.text()).isEqualTo(200);
                    }
                }
            } finally {
                for (Socket f : fillers) {
                    f.close();
                }
            }
        }
    }

    // The script lambda needs the backend to record heads; one test runs at a time in this class.
    private static volatile ScriptedBackend holder;

    private static ScriptedBackend be0(Socket s) throws InterruptedException {
        while (holder == null || holder.port() != s.getLocalPort()) {
            Thread.sleep(5);
        }
        return holder;
    }
}
