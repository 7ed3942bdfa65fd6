package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.WebSocketBackend;
import dev.portcullis.testing.WsClient;
import dev.portcullis.upstream.Upstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket through the proxy with the JDK client against a Netty echo backend: messages both ways, fragments
 * streamed, ping/pong, the close handshake each way, abrupt ends, refusals, and the upstream's slots held for the
 * tunnel's life and given back after it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WebSocketProxyTest {
    @TempDir
    static Path dir;
    private static WebSocketBackend backend;
    private static TestProxy proxy;
    private static Path accessLog;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        backend = new WebSocketBackend();
        accessLog = dir.resolve("access.log");
        proxy = TestProxy.start("""
                access_log: { path: %s, format: json }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: /local }
                        respond: { status: 200, body: "local" }
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(accessLog, backend.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        backend.close();
    }

    private static URI ws(String path) {
        return WsClient.uri(proxy.port("web"), path);
    }

    private static Upstream be() {
        return proxy.process().snapshot().upstreams().get("be");
    }

    /** Every tunnel gave back its breaker slot and in-flight count. */
    private static void awaitSlotsBack() {
        Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(be().breaker().requests()).isZero();
            assertThat(be().endpoints().get(0).state().inFlight()).isZero();
        });
    }

    private void assertStillServing() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(proxy.uri("web", "/plain")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("plain");
    }

    @Test
    void textAndBinaryMessagesBothWaysWithTheUpgradeHeadersPassedOn() throws Exception {
        backend.requests.clear();
        try (WsClient c = WsClient.open(ws("/echo?x=1"))) {
            c.sendText("hello");
            assertThat(c.next()).isEqualTo("text:hello");
            c.sendText("héllo ✓");
            assertThat(c.next()).isEqualTo("text:héllo ✓");
            byte[] bin = new byte[3000];
            new Random(7).nextBytes(bin);
            c.sendBinary(bin, true);
            assertThat(c.next()).isEqualTo("binary:3000:" + crc(bin));
            c.ws.sendClose(1000, "done").get(10, TimeUnit.SECONDS);
            assertThat(c.awaitClosed()).startsWith("1000");
        }
        WebSocketBackend.Seen seen = backend.requests.poll();
        assertThat(seen.line()).isEqualTo("GET /echo?x=1");
        assertThat(seen.headers().get("Upgrade")).isEqualToIgnoringCase("websocket");
        assertThat(seen.headers().get("Connection")).isEqualToIgnoringCase("upgrade");
        assertThat(seen.headers().get("Sec-WebSocket-Key")).isNotBlank();
        assertThat(seen.headers().get("Sec-WebSocket-Version")).isEqualTo("13");
        assertThat(seen.headers().get("X-Forwarded-For")).isEqualTo("127.0.0.1");
        awaitSlotsBack();
        assertStillServing();
    }

    @Test
    void manyMessagesInOrder() throws Exception {
        try (WsClient c = WsClient.open(ws("/many"))) {
            for (int i = 0; i < 2000; i++) {
                c.sendText("m" + i);
            }
            for (int i = 0; i < 2000; i++) {
                assertThat(c.next()).isEqualTo("text:m" + i);
            }
        }
        awaitSlotsBack();
    }

    /**
     * A 10 MiB message sent as 160 fragments, each one only after the previous one's echo came back: the proxy
     * cannot be holding the message until it is whole (it would never come back). The whole message is checked.
     */
    @Test
    void tenMiBMessageStreamedFragmentByFragment() throws Exception {
        int part = 64 * 1024;
        int parts = 160;
        CRC32 crc = new CRC32();
        Random random = new Random(42);
        try (WsClient c = WsClient.open(ws("/big"))) {
            byte[] buf = new byte[part];
            for (int i = 0; i < parts; i++) {
                random.nextBytes(buf);
                crc.update(buf);
                c.sendBinary(buf, i == parts - 1);
                long expected = (long) (i + 1) * part;
                Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                        .atMost(Duration.ofSeconds(20)).until(() -> c.binaryBytesSeen >= expected);
            }
            assertThat(c.next()).isEqualTo("binary:" + (long) part * parts + ":" + Long.toHexString(crc.getValue()));
            // and 2 MiB without waiting: the relay keeps up under its own backpressure (the JDK client and the
            // echo backend, not the proxy, bound the speed here: about the same without the proxy)
            for (int i = 0; i < 32; i++) {
                c.sendBinary(buf, i == 31);
            }
            assertThat(c.next()).startsWith("binary:" + (long) part * 32 + ":");
        }
        awaitSlotsBack();
    }

    @Test
    void pingGetsPong() throws Exception {
        try (WsClient c = WsClient.open(ws("/ping"))) {
            c.ws.sendPing(java.nio.ByteBuffer.wrap("p1".getBytes())).get(10, TimeUnit.SECONDS);
            assertThat(c.next()).isEqualTo("pong:p1");
            c.sendText("after");
            assertThat(c.next()).isEqualTo("text:after");
        }
    }

    @Test
    void closeHandshakeFromTheClient() throws Exception {
        WsClient c = WsClient.open(ws("/bye"));
        c.ws.sendClose(1001, "going away").get(10, TimeUnit.SECONDS);
        assertThat(c.awaitClosed()).isEqualTo("1001 going away");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backend.openSockets.get() == 0);
        awaitSlotsBack();
    }

    @Test
    void closeHandshakeFromTheBackend() throws Exception {
        try (WsClient c = WsClient.open(ws("/server-close"))) {
            c.sendText("close-me");
            assertThat(c.awaitClosed()).isEqualTo("4000 server bye");
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backend.openSockets.get() == 0);
        awaitSlotsBack();
    }

    @Test
    void backendThatClosesAbruptlyClosesTheClient() throws Exception {
        try (WsClient c = WsClient.open(ws("/abort"))) {
            c.sendText("abort");
            // no close frame: the JDK reports an abnormal closure (1006) or an error, either way the socket ended
            assertThat(c.awaitClosed()).satisfiesAnyOf(s -> assertThat(s).startsWith("1006"),
                    s -> assertThat(s).startsWith("error"));
        }
        awaitSlotsBack();
        assertStillServing();
    }

    @Test
    void clientThatGoesAwayClosesTheBackend() throws Exception {
        WsClient c = WsClient.open(ws("/gone"));
        c.sendText("x");
        assertThat(c.next()).isEqualTo("text:x");
        c.ws.abort();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backend.openSockets.get() == 0);
        awaitSlotsBack();
    }

    @Test
    void aNonSwitchingAnswerIsRelayedAsAResponse() throws Exception {
        assertThatThrownBy(() -> WsClient.open(ws("/deny")))
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> {
                    java.net.http.HttpResponse<?> r = ((WebSocketHandshakeException) e).getResponse();
                    assertThat(r.statusCode()).isEqualTo(403);
                });
        awaitSlotsBack();
    }

    /** After an upgrade that did not happen, the same connection carries the next request as HTTP again. */
    @Test
    void connectionStaysUsableAfterARefusedUpgrade() throws Exception {
        try (RawExchange c = new RawExchange(proxy.port("web"))) {
            c.write(upgradeRequest("/deny") + "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
            RawExchange.Result first = c.readResponse(5000);
            assertThat(first.status()).as(first.text()).isEqualTo(403);
            assertThat(first.body()).isEqualTo("denied");
            RawExchange.Result second = c.readResponse(5000);
            assertThat(second.status()).as(second.text()).isEqualTo(200);
            assertThat(second.body()).isEqualTo("plain");
            // and the proxy's own answers too
            c.write(upgradeRequest("/local"));
            RawExchange.Result local = c.readResponse(5000);
            assertThat(local.status()).isEqualTo(200);
            assertThat(local.body()).isEqualTo("local");
            c.write("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.readResponse(5000).body()).isEqualTo("plain");
        }
        awaitSlotsBack();
    }

    @Test
    void tunnelIsLoggedOnceWithBytesEachWay() throws Exception {
        try (WsClient c = WsClient.open(ws("/logged"))) {
            c.sendText("0123456789");
            assertThat(c.next()).isEqualTo("text:0123456789");
            c.ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
            c.awaitClosed();
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<String> lines = Files.readAllLines(accessLog).stream().filter(l -> l.contains("/logged")).toList();
            assertThat(lines).hasSize(1);
            String line = lines.get(0);
            assertThat(line).contains("\"status\":101");
            // the client sent a masked 16-byte text frame and a close frame; it got 12 bytes of echo and a close
            assertThat(number(line, "bytes_received")).isGreaterThanOrEqualTo(16 + 6);
            assertThat(number(line, "bytes_sent")).isGreaterThanOrEqualTo(12 + 2);
        });
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("portcullis_websocket_connections_total\\{listener=\"web\"} [1-9]");
        assertThat(metrics).contains("portcullis_websocket_bytes_total{direction=\"upstream\",listener=\"web\"}");
    }

    private static long number(String json, String field) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
        assertThat(m.find()).as(field + " in " + json).isTrue();
        return Long.parseLong(m.group(1));
    }

    static String upgradeRequest(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    static String crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return Long.toHexString(c.getValue());
    }

    @Test
    void upgradeToAnUnreachableEndpointIs502() throws Exception {
        int closed = dev.portcullis.testing.ScriptedBackend.closedPort();
        try (TestProxy p = TestProxy.toOneUpstream("127.0.0.1:" + closed)) {
            assertThatThrownBy(() -> WsClient.open(WsClient.uri(p.port("web"), "/x")))
                    .cause().isInstanceOf(WebSocketHandshakeException.class)
                    .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                            .isEqualTo(502));
            RawExchange.Result r;
            try (RawExchange c = new RawExchange(p.port("web"))) {
                c.write(upgradeRequest("/y"));
                r = c.readResponse(5000);
            }
            assertThat(r.status()).as(r.text()).isEqualTo(502);
            assertThat(r.header("Upgrade")).isNull();
        }
        assertStillServing();
    }

    /** The circuit breaker's request slot is held while the tunnel is open, and given back when it closes. */
    @Test
    void tunnelHoldsTheBreakerSlotForItsLife() throws Exception {
        try (TestProxy p = TestProxy.start(TestProxy.oneRouteYaml("workers: 1\n", backend.address(),
                ", circuit_breaker: { max_requests: 1 }", ""))) {
            Upstream up = p.process().snapshot().upstreams().get("be");
            try (WsClient c = WsClient.open(WsClient.uri(p.port("web"), "/held"))) {
                c.sendText("x");
                assertThat(c.next()).isEqualTo("text:x");
                assertThat(up.breaker().requests()).isEqualTo(1);
                assertThat(up.endpoints().get(0).state().inFlight()).isEqualTo(1);
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(p.uri("web", "/plain")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(503);
                c.ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
                c.awaitClosed();
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(up.breaker().requests()).isZero();
                assertThat(up.endpoints().get(0).state().inFlight()).isZero();
            });
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(p.uri("web", "/plain")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void idleTunnelIsClosedAfterIdleTimeoutAndAnActiveOneIsNot() throws Exception {
        try (TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    limits: { idle_timeout: 2s }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(backend.address()))) {
            try (WsClient active = WsClient.open(WsClient.uri(p.port("web"), "/active"))) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int i = 0;
                while (System.nanoTime() < end) {
                    active.sendText("t" + i);
                    assertThat(active.next()).isEqualTo("text:t" + i);
                    i++;
                    Thread.sleep(200);
                }
                assertThat(active.closed).isNotDone();
                long idleStart = System.nanoTime();
                String how = active.awaitClosed();
                long idleMillis = (System.nanoTime() - idleStart) / 1_000_000;
                assertThat(how).satisfiesAnyOf(s -> assertThat(s).startsWith("1006"),
                        s -> assertThat(s).startsWith("error"));
                assertThat(idleMillis).isGreaterThanOrEqualTo(1500);
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(p.process().snapshot().upstreams().get("be").breaker().requests()).isZero());
        }
    }

    /** A tunnel open when the process drains goes on until shutdown_timeout, then it is closed. */
    @Test
    void tunnelSurvivesDrainUntilShutdownTimeout() throws Exception {
        TestProxy p = TestProxy.start("shutdown_timeout: 3s\n" + TestProxy.oneRouteYaml("", backend.address(), "", ""));
        try (WsClient c = WsClient.open(WsClient.uri(p.port("web"), "/drain"))) {
            Thread stopper = new Thread(p::close, "stopper");
            long start = System.nanoTime();
            stopper.start();
            Thread.sleep(500);
            c.sendText("during drain");
            assertThat(c.next()).isEqualTo("text:during drain");
            assertThat(c.closed).isNotDone();
            c.awaitClosed();
            stopper.join(20_000);
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(2500);
        }
    }
}
