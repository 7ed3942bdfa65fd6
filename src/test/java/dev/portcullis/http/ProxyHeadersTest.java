package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The headers the backend and the client see (CONTRACT.md "What clients and backends see"). */
class ProxyHeadersTest {
    static RawBackend backend;
    static TestProxy proxy;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        backend = RawBackend.serving((req, out) -> {
            String extra = req.startLine().contains("/hop-response")
                    ? "Connection: keep-alive, X-Backend-Secret\r\nKeep-Alive: timeout=5\r\nX-Backend-Secret: s3\r\n"
                    + "Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: yes\r\n"
                    : "";
            RawBackend.write(out, "HTTP/1.1 200 OK\r\n" + extra + "Content-Length: 2\r\n\r\nok");
            return true;
        });
        proxy = TestProxy.toOneUpstream(backend.address());
        port = proxy.port("web");
    }

    @AfterAll
    static void stop() throws IOException {
        proxy.close();
        backend.close();
    }

    @BeforeEach
    void clear() {
        backend.requests.clear();
    }

    /** Sends one request on a fresh connection; returns the response; the backend's view is in backend.requests. */
    static Wire.Message send(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return Wire.readResponse(s.getInputStream(), false);
        }
    }

    static Wire.Message seen() {
        assertThat(backend.requests).hasSize(1);
        return backend.requests.peek();
    }

    @Test
    void forwardingHeadersAreAddedAndAppended() throws IOException {
        Wire.Message res = send("GET /a HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + "X-Forwarded-For: 203.0.113.7\r\nVia: 1.0 edge\r\nForwarded: for=203.0.113.7\r\n\r\n");
        assertThat(res.status()).isEqualTo(200);
        Wire.Message b = seen();
        assertThat(b.header("X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
        assertThat(b.header("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(b.header("X-Forwarded-Host")).isEqualTo("127.0.0.1:" + port);
        assertThat(b.header("Forwarded"))
                .isEqualTo("for=203.0.113.7, for=127.0.0.1;host=\"127.0.0.1:" + port + "\";proto=http");
        assertThat(b.header("Via")).isEqualTo("1.0 edge, 1.1 portcullis");
        assertThat(b.header("Host")).isEqualTo("127.0.0.1:" + port);
    }

    @Test
    void forwardingHeadersWithoutClientValues() throws IOException {
        send("GET /a HTTP/1.1\r\nHost: example.test\r\n\r\n");
        Wire.Message b = seen();
        assertThat(b.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(b.header("X-Forwarded-Host")).isEqualTo("example.test");
        assertThat(b.header("Forwarded")).isEqualTo("for=127.0.0.1;host=example.test;proto=http");
        assertThat(b.header("Via")).isEqualTo("1.1 portcullis");
        assertThat(b.header("Host")).isEqualTo("example.test");
    }

    @Test
    void wellFormedRequestIdIsKept() throws IOException {
        Wire.Message res = send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123_XYZ.9\r\n\r\n");
        assertThat(seen().header("X-Request-Id")).isEqualTo("abc-123_XYZ.9");
        assertThat(res.status()).isEqualTo(200);
    }

    @Test
    void malformedRequestIdIsReplaced() throws IOException {
        send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: has spaces in it\r\n\r\n");
        assertThat(seen().header("X-Request-Id")).matches("[0-9a-f]{32}");
        backend.requests.clear();
        send("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: " + "a".repeat(300) + "\r\n\r\n");
        assertThat(seen().header("X-Request-Id")).matches("[0-9a-f]{32}");
    }

    @Test
    void missingRequestIdIsGenerated() throws IOException {
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        String first = seen().header("X-Request-Id");
        backend.requests.clear();
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        String second = seen().header("X-Request-Id");
        assertThat(first).matches("[0-9a-f]{32}");
        assertThat(second).matches("[0-9a-f]{32}").isNotEqualTo(first);
    }

    @Test
    void hopByHopRequestHeadersAreRemoved() throws IOException {
        Wire.Message res = send("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\n"
                + "Keep-Alive: timeout=10\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: websocket\r\n"
                + "Proxy-Authorization: Basic dXNlcjpwYXNz\r\nX-Secret: hidden\r\nX-Normal: visible\r\n\r\n");
        assertThat(res.status()).isEqualTo(200);
        Wire.Message b = seen();
        assertThat(b.headerNames()).doesNotContain("keep-alive", "proxy-connection", "te", "upgrade",
                "proxy-authorization", "x-secret");
        // The proxy may add its own Connection header for its upstream leg, but never the client's tokens.
        if (b.header("Connection") != null) {
            assertThat(b.header("Connection")).doesNotContainIgnoringCase("x-secret");
        }
        assertThat(b.header("X-Normal")).isEqualTo("visible");
    }

    @Test
    void hopByHopResponseHeadersAreRemoved() throws IOException {
        Wire.Message res = send("GET /hop-response HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.headerNames()).doesNotContain("keep-alive", "x-backend-secret", "proxy-authenticate",
                "upgrade");
        assertThat(res.header("X-Kept")).isEqualTo("yes");
        assertThat(res.bodyText()).isEqualTo("ok");
    }

    @Test
    void backendAddressIsNotRevealed() throws IOException {
        Wire.Message res = send("GET /hop-response HTTP/1.1\r\nHost: h\r\n\r\n");
        String backendPort = String.valueOf(backend.port());
        for (String[] h : res.headers()) {
            assertThat(h[1]).doesNotContain(backendPort);
        }
    }
}
