package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.WebSocketBackend;
import dev.portcullis.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * WebSocket tunnels seen byte by byte: bytes that come in the same packet as the upgrade request or the 101 are
 * not lost, backpressure holds each way, a half-close is passed on, and requests that only look like upgrades
 * are plain requests (Upgrade removed), while a 101 nobody asked for stays a 502.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WebSocketRawTest {
    private static WebSocketBackend wsBackend;
    private static TestProxy wsProxy;

    @BeforeAll
    static void start() throws Exception {
        wsBackend = new WebSocketBackend();
        wsProxy = TestProxy.toOneUpstream(wsBackend.address());
    }

    @AfterAll
    static void stop() {
        wsProxy.close();
        wsBackend.close();
    }

    /** Short shutdown_timeout: a test that leaves a tunnel open does not wait 30 s at the end. */
    private static TestProxy proxy(String endpoints) throws Exception {
        return TestProxy.toOneUpstream(endpoints, "shutdown_timeout: 5s\n", "");
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setTcpNoDelay(true);
        s.setSoTimeout(20_000);
        return s;
    }

    /** A masked client text frame (payload under 126 bytes). */
    static byte[] clientTextFrame(String text) {
        byte[] p = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        byte[] f = new byte[6 + p.length];
        f[0] = (byte) 0x81;
        f[1] = (byte) (0x80 | p.length);
        System.arraycopy(mask, 0, f, 2, 4);
        for (int i = 0; i < p.length; i++) {
            f[6 + i] = (byte) (p[i] ^ mask[i % 4]);
        }
        return f;
    }

    /** Reads one unmasked server text frame (payload under 126 bytes) and returns its text. */
    static String readServerTextFrame(InputStream in) throws IOException {
        byte[] h = in.readNBytes(2);
        assertThat(h).hasSize(2);
        assertThat(h[0] & 0xff).isEqualTo(0x81);
        byte[] p = in.readNBytes(h[1] & 0x7f);
        return new String(p, StandardCharsets.UTF_8);
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            String s = b.toString(StandardCharsets.ISO_8859_1);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        throw new IOException("EOF in head: " + b.toString(StandardCharsets.ISO_8859_1));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The frame written in the same packet as the upgrade request reaches the backend (and comes back). */
    @Test
    void bytesInTheSamePacketAsTheUpgradeRequestAreNotLost() throws Exception {
        try (Socket s = connect(wsProxy.port("web"))) {
            s.getOutputStream().write(concat(ascii(WebSocketProxyTest.upgradeRequest("/early")),
                    clientTextFrame("early"), clientTextFrame("bird")));
            InputStream in = s.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101 ");
            assertThat(header(head, "Upgrade")).isEqualToIgnoringCase("websocket");
            assertThat(header(head, "Connection")).isEqualToIgnoringCase("upgrade");
            assertThat(header(head, "Sec-WebSocket-Accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            assertThat(readServerTextFrame(in)).isEqualTo("early");
            assertThat(readServerTextFrame(in)).isEqualTo("bird");
        }
    }

    /** 200 KiB sent before the 101 (past the hold limit, so reading pauses): all of it arrives after the 101. */
    @Test
    void earlyBytesPastTheHoldLimitWaitForThe101() throws Exception {
        CompletableFuture<Void> answer = new CompletableFuture<>();
        byte[] early = new byte[200 * 1024];
        new java.util.Random(3).nextBytes(early);
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            answer.get(30, TimeUnit.SECONDS);
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n");
            echo(s);
        }); TestProxy p = proxy(be.address()); Socket c = connect(p.port("web"))) {
            c.getOutputStream().write(concat(ascii(WebSocketProxyTest.upgradeRequest("/early")), early));
            Thread.sleep(500);
            answer.complete(null);
            InputStream in = c.getInputStream();
            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
            assertThat(in.readNBytes(early.length)).isEqualTo(early);
        }
    }

    /**
     * The upgrade is refused while 80 KiB of pipelined requests wait behind it (past the hold limit): they are
     * then read as HTTP and every one is answered, in order.
     */
    @Test
    void requestsHeldBehindARefusedUpgradeAreAllAnswered() throws Exception {
        int n = 600;
        StringBuilder pipelined = new StringBuilder(WebSocketProxyTest.upgradeRequest("/refused"));
        for (int i = 0; i < n; i++) {
            pipelined.append("GET /r").append(i).append(" HTTP/1.1\r\nHost: x\r\nX-Pad: ").append("p".repeat(100))
                    .append("\r\n\r\n");
        }
        try (RawBackend be = RawBackend.serving((req, out) -> {
            String target = req.startLine().split(" ")[1];
            RawBackend.write(out, req.header("Upgrade") != null
                    ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"
                    : "HTTP/1.1 200 OK\r\nContent-Length: " + target.length() + "\r\n\r\n" + target);
            return true;
        }); TestProxy p = proxy(be.address()); RawExchange c = new RawExchange(p.port("web"))) {
            c.write(pipelined.toString());
            RawExchange.Result refused = c.readResponse(10_000);
            assertThat(refused.status()).as(refused.text()).isEqualTo(403);
            for (int i = 0; i < n; i++) {
                RawExchange.Result r = c.readResponse(10_000);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("/r" + i);
            }
        }
    }

    /**
     * With a route retry on resets and 5xx: a 503 to the upgrade is retried (nothing was switched yet), but a
     * tunnel whose upstream breaks after its 101 is never replayed: the client sees its connection end.
     */
    @Test
    void retriesStopAtThe101() throws Exception {
        java.util.concurrent.atomic.AtomicInteger heads = new java.util.concurrent.atomic.AtomicInteger();
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            heads.incrementAndGet();
            if (i == 0) {
                ScriptedBackend.write(s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
                readHead(s.getInputStream()); // the leg drops a connection after a retried 5xx: this read ends at its close
                heads.incrementAndGet();
            }
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\nhi");
            s.setSoLinger(true, 0);
            s.close(); // a reset right after the 101
        }); TestProxy withRetry = TestProxy.start(TestProxy.oneRouteYaml("", be.address(), "",
                     "retry: { attempts: 3, on: [reset, 5xx], backoff: { base: 1ms, max: 1ms } }"));
             Socket c = connect(withRetry.port("web"))) {
            c.getOutputStream().write(ascii(WebSocketProxyTest.upgradeRequest("/r")));
            InputStream in = c.getInputStream();
            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
            byte[] rest = in.readAllBytes(); // until the proxy closes: no second 101, no retry
            assertThat(new String(rest, StandardCharsets.US_ASCII)).isIn("", "h", "hi");
            Thread.sleep(300);
            assertThat(heads.get()).isEqualTo(2); // the 503'd try and the switched one, nothing after it
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    withRetry.process().snapshot().upstreams().get("be").breaker().requests() == 0);
        }
    }

    /** A plain request, then an upgrade and a frame, all in one packet: answered in order, then tunnelled. */
    @Test
    void upgradePipelinedBehindAPlainRequest() throws Exception {
        try (Socket s = connect(wsProxy.port("web"))) {
            s.getOutputStream().write(concat(ascii("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"),
                    ascii(WebSocketProxyTest.upgradeRequest("/after")), clientTextFrame("behind")));
            InputStream in = s.getInputStream();
            String first = readHead(in);
            assertThat(first).startsWith("HTTP/1.1 200 ");
            assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("plain");
            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
            assertThat(readServerTextFrame(in)).isEqualTo("behind");
        }
    }

    static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int c = line.indexOf(':');
            if (c > 0 && line.substring(0, c).trim().equalsIgnoreCase(name)) {
                return line.substring(c + 1).trim();
            }
        }
        return null;
    }

    /**
     * The backend writes its 101 and its first bytes in one write: those bytes reach the client after the 101.
     * Also without Sec-WebSocket-Accept, which Netty's response decoder treats as a 101 with a body.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void bytesInTheSamePacketAsThe101AreNotLost(boolean withAccept) throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            s.getOutputStream().write(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n" + (withAccept ? "Sec-WebSocket-Accept: abc=\r\n" : "")
                    + "X-Backend: yes\r\n\r\nWELCOME"));
            s.getOutputStream().flush();
            echo(s);
        }); TestProxy p = proxy(be.address()); Socket c = connect(p.port("web"))) {
            c.getOutputStream().write(ascii(WebSocketProxyTest.upgradeRequest("/w")));
            InputStream in = c.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101 ");
            assertThat(header(head, "X-Backend")).isEqualTo("yes");
            assertThat(header(head, "Content-Length")).isNull();
            assertThat(header(head, "Transfer-Encoding")).isNull();
            assertThat(new String(in.readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("WELCOME");
            c.getOutputStream().write(ascii("raw bytes both ways"));
            assertThat(new String(in.readNBytes(19), StandardCharsets.US_ASCII)).isEqualTo("raw bytes both ways");
        }
    }

    /** Echoes until EOF, then writes "bye" and closes. */
    private static void echo(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] b = new byte[8192];
        int n;
        while ((n = in.read(b)) >= 0) {
            out.write(b, 0, n);
            out.flush();
        }
        out.write(ascii("bye"));
        out.flush();
        s.close();
    }

    /** The client's FIN reaches the backend, whose answer after it still reaches the client. */
    @Test
    void halfCloseIsPassedOn() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n");
            echo(s);
        }); TestProxy p = proxy(be.address()); Socket c = connect(p.port("web"))) {
            c.getOutputStream().write(ascii(WebSocketProxyTest.upgradeRequest("/half")));
            InputStream in = c.getInputStream();
            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
            c.getOutputStream().write(ascii("last words"));
            c.shutdownOutput();
            assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("last wordsbye");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    p.process().snapshot().upstreams().get("be").breaker().requests() == 0);
        }
    }

    /**
     * The backend floods a client that does not read: the proxy stops reading the backend, so the backend's
     * writes block after the socket buffers fill (tens of MiB at most, not the 192 MiB it tries). Then the client
     * reads everything, exactly.
     */
    @Test
    void aClientThatDoesNotReadHoldsTheBackendBack() throws Exception {
        long total = 192L << 20;
        AtomicLong written = new AtomicLong();
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n");
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (long sent = 0; sent < total; sent += chunk.length) {
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            out.flush();
            s.getInputStream().readAllBytes(); // until the proxy passes the client's FIN on
            s.close();
        }); TestProxy p = proxy(be.address()); Socket c = connect(p.port("web"))) {
            c.setReceiveBufferSize(64 * 1024);
            c.getOutputStream().write(ascii(WebSocketProxyTest.upgradeRequest("/flood")));
            InputStream in = c.getInputStream();
            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> written.get() > 0);
            long before;
            do {
                before = written.get();
                Thread.sleep(1000);
            } while (written.get() != before); // until the backend is blocked
            assertThat(written.get()).isLessThan(64L << 20);
            long read = 0;
            byte[] b = new byte[1 << 16];
            while (read < total) {
                int n = in.read(b);
                assertThat(n).isPositive();
                read += n;
            }
            assertThat(read).isEqualTo(total);
        }
    }

    /** The other way: a backend that does not read holds back a client that floods. */
    @Test
    void aBackendThatDoesNotReadHoldsTheClientBack() throws Exception {
        long total = 192L << 20;
        CompletableFuture<Long> received = new CompletableFuture<>();
        CompletableFuture<Void> startReading = new CompletableFuture<>();
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            s.setReceiveBufferSize(64 * 1024);
            InputStream in = s.getInputStream();
            readHead(in);
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n");
            startReading.get(60, TimeUnit.SECONDS);
            long n = 0;
            byte[] b = new byte[1 << 16];
            while (n < total) {
                int r = in.read(b);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            received.complete(n);
            s.close();
        }); TestProxy p = proxy(be.address()); Socket c = connect(p.port("web"))) {
            c.getOutputStream().write(ascii(WebSocketProxyTest.upgradeRequest("/upload")));
            assertThat(readHead(c.getInputStream())).startsWith("HTTP/1.1 101 ");
            AtomicLong written = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    byte[] chunk = new byte[64 * 1024];
                    OutputStream out = c.getOutputStream();
                    for (long sent = 0; sent < total; sent += chunk.length) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                } catch (IOException e) {
                    // the test fails on the count
                }
            }, "flooding-client");
            writer.setDaemon(true);
            writer.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> written.get() > 0);
            long before;
            do {
                before = written.get();
                Thread.sleep(1000);
            } while (written.get() != before);
            assertThat(written.get()).isLessThan(64L << 20);
            startReading.complete(null);
            assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(total);
            writer.join(10_000);
        }
    }

    /** Requests that mention websocket but cannot be an opening handshake go on as plain requests. */
    @ParameterizedTest
    @ValueSource(strings = {
        "POST /p HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello",
        "GET /p HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello",
        "GET /p HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n"
                + "\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET /p HTTP/1.0\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET /p HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        "OPTIONS /p HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n",
    })
    void notAnOpeningHandshakeIsAPlainRequestWithoutUpgrade(String request) throws Exception {
        try (RawBackend be = RawBackend.serving((req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            return true;
        }); TestProxy p = proxy(be.address())) {
            RawExchange.Result r;
            try (RawExchange c = new RawExchange(p.port("web"))) {
                c.write(request);
                r = c.readResponse(5000);
            }
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
            Wire.Message seen = be.requests.poll();
            assertThat(seen).isNotNull();
            assertThat(seen.header("Upgrade")).isNull();
            assertThat(seen.header("Connection")).isNull();
            assertThat(seen.header("HTTP2-Settings")).isNull();
        }
    }

    /** A 101 to a request that did not ask for one, or to another protocol than websocket: a broken reply. */
    @ParameterizedTest
    @ValueSource(strings = {
        "GET /p HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /p HTTP/1.0\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET /p HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a\r\n\r\n",
    })
    void unexpectedSwitchIs502(String request) throws Exception {
        boolean askedWebSocket = request.contains("Key");
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            readHead(s.getInputStream());
            ScriptedBackend.write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
                    + (askedWebSocket ? "foo" : "websocket") + "\r\nConnection: Upgrade\r\n\r\nraw");
            Thread.sleep(2000);
        }); TestProxy p = proxy(be.address())) {
            RawExchange.Result r;
            try (RawExchange c = new RawExchange(p.port("web"))) {
                c.write(request);
                r = c.readResponse(5000);
            }
            assertThat(r.status()).as(r.text()).isEqualTo(502);
            assertThat(r.text()).doesNotContain("raw");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    p.process().snapshot().upstreams().get("be").breaker().requests() == 0);
        }
    }
}
