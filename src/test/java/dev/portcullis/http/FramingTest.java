package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Message framing in both directions: Content-Length, chunked, close-delimited, HEAD, 1xx, 204/304, trailers. */
class FramingTest {
    static final byte[] BIG = new byte[1_500_000];

    static {
        new Random(7).nextBytes(BIG);
    }

    static RawBackend backend;
    static TestProxy proxy;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        backend = RawBackend.serving(FramingTest::respond);
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

    private static boolean respond(Wire.Message req, OutputStream out) throws IOException {
        String path = req.startLine().split(" ")[1];
        boolean head = req.startLine().startsWith("HEAD ");
        switch (path) {
            case "/chunked" -> {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                if (!head) {
                    RawBackend.write(out, "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
                }
            }
            case "/trailers" -> RawBackend.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                    + "Trailer: X-Checksum\r\n\r\n4\r\ndata\r\n0\r\nX-Checksum: abc123\r\n\r\n");
            case "/close-delimited" -> {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n"
                        + "until the end");
                return false;
            }
            case "/length" -> RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
                    + (head ? "" : "length"));
            case "/no-content" -> RawBackend.write(out, "HTTP/1.1 204 No Content\r\n\r\n");
            case "/not-modified" -> RawBackend.write(out, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
            case "/early-hints" -> RawBackend.write(out, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
            case "/big-chunked" -> {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int off = 0; off < BIG.length; off += 8191) {
                    int n = Math.min(8191, BIG.length - off);
                    RawBackend.write(out, Integer.toHexString(n) + "\r\n");
                    out.write(BIG, off, n);
                    RawBackend.write(out, "\r\n");
                }
                RawBackend.write(out, "0\r\n\r\n");
            }
            case "/echo" -> {
                String trailer = req.trailer("X-Trailer");
                byte[] body = req.body();
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n"
                        + (trailer == null ? "" : "X-Got-Trailer: " + trailer + "\r\n") + "\r\n");
                out.write(body);
            }
            default -> RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
        return true;
    }

    static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(5000);
        return s;
    }

    static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** True when the peer closed: read returns EOF (or reset) within the timeout. */
    static boolean closedByPeer(Socket s) throws IOException {
        s.setSoTimeout(3000);
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void contentLengthRequestBodyArrivesIntact() throws IOException {
        byte[] body = new byte[200_000];
        new Random(1).nextBytes(body);
        try (Socket s = connect()) {
            write(s, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: " + body.length + "\r\n\r\n");
            s.getOutputStream().write(body);
            s.getOutputStream().flush();
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.body()).isEqualTo(body);
        }
        assertThat(backend.requests.peek().body()).isEqualTo(body);
    }

    @Test
    void chunkedRequestBodyAndTrailersArriveIntact() throws IOException {
        byte[] part1 = new byte[10_000];
        byte[] part2 = new byte[3];
        new Random(2).nextBytes(part1);
        new Random(3).nextBytes(part2);
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            write(s, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n");
            write(s, Integer.toHexString(part1.length) + "\r\n");
            out.write(part1);
            write(s, "\r\n3\r\n");
            out.write(part2);
            write(s, "\r\n0\r\nX-Trailer: t-value\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            expected.write(part1);
            expected.write(part2);
            assertThat(res.body()).isEqualTo(expected.toByteArray());
            Wire.Message seen = backend.requests.peek();
            assertThat(seen.framing()).isEqualTo("chunked");
            assertThat(seen.header("Content-Length")).isNull();
            assertThat(seen.trailer("X-Trailer")).isEqualTo("t-value");
            assertThat(res.header("X-Got-Trailer")).isEqualTo("t-value");
        }
    }

    @Test
    void contentLengthResponse() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.framing()).isEqualTo("length");
            assertThat(res.bodyText()).isEqualTo("length");
        }
    }

    @Test
    void chunkedResponseStaysFramed() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.framing()).isIn("chunked", "length");
            assertThat(res.bodyText()).isEqualTo("hello, world");
            // and the connection is still usable
            write(s, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(Wire.readResponse(s.getInputStream(), false).bodyText()).isEqualTo("length");
        }
    }

    @Test
    void responseTrailersReachTheClient() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /trailers HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.framing()).isEqualTo("chunked");
            assertThat(res.bodyText()).isEqualTo("data");
            assertThat(res.trailer("X-Checksum")).isEqualTo("abc123");
        }
    }

    @Test
    void closeDelimitedResponseIsRechunkedForHttp11() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /close-delimited HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.framing()).isEqualTo("chunked");
            assertThat(res.bodyText()).isEqualTo("until the end");
            write(s, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(Wire.readResponse(s.getInputStream(), false).bodyText()).isEqualTo("length");
        }
    }

    @Test
    void http10ClientGetsNoChunkedEncodingAndTheConnectionCloses() throws IOException {
        String raw = RawHttp.exchange(port, "GET /chunked HTTP/1.0\r\nHost: h\r\n\r\n", 3000);
        assertThat(RawHttp.status(raw)).isEqualTo(200);
        assertThat(raw.toLowerCase()).doesNotContain("transfer-encoding");
        assertThat(raw).endsWith("\r\n\r\nhello, world");
        try (Socket s = connect()) {
            write(s, "GET /chunked HTTP/1.0\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.bodyText()).isEqualTo("hello, world");
            assertThat(res.framing()).isIn("close", "length");
            assertThat(closedByPeer(s)).isTrue();
        }
    }

    @Test
    void http10KeepAliveWithContentLengthStaysOpen() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /length HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.bodyText()).isEqualTo("length");
            assertThat(res.header("Connection")).isEqualToIgnoringCase("keep-alive");
            write(s, "GET /length HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
            assertThat(Wire.readResponse(s.getInputStream(), false).bodyText()).isEqualTo("length");
        }
    }

    @Test
    void headGetsHeadersAndNoBody() throws IOException {
        try (Socket s = connect()) {
            write(s, "HEAD /length HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), true);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.header("Content-Length")).isEqualTo("6");
            write(s, "HEAD /chunked HTTP/1.1\r\nHost: h\r\n\r\n");
            res = Wire.readResponse(s.getInputStream(), true);
            assertThat(res.status()).isEqualTo(200);
            // a following request proves no body (or terminating chunk) leaked onto the connection
            write(s, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n");
            res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.startLine()).startsWith("HTTP/1.1 200");
            assertThat(res.bodyText()).isEqualTo("length");
        }
    }

    @Test
    void noContentAndNotModifiedHaveNoBody() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /no-content HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(204);
            assertThat(res.header("Transfer-Encoding")).isNull();
            write(s, "GET /not-modified HTTP/1.1\r\nHost: h\r\n\r\n");
            res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(304);
            assertThat(res.header("ETag")).isEqualTo("\"v1\"");
            assertThat(res.header("Transfer-Encoding")).isNull();
            write(s, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n");
            res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.startLine()).startsWith("HTTP/1.1 200");
            assertThat(res.bodyText()).isEqualTo("length");
        }
    }

    @Test
    void expectContinueIsAnsweredAndNotForwarded() throws IOException {
        try (Socket s = connect()) {
            write(s, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            InputStream in = s.getInputStream();
            Wire.Message cont = Wire.readResponse(in, false);
            assertThat(cont.startLine()).isEqualTo("HTTP/1.1 100 Continue");
            write(s, "howdy");
            Wire.Message res = Wire.readResponse(in, false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.bodyText()).isEqualTo("howdy");
        }
        Wire.Message seen = backend.requests.peek();
        assertThat(seen.header("Expect")).isNull();
        assertThat(seen.bodyText()).isEqualTo("howdy");
    }

    @Test
    void earlyHintsArePassedBeforeTheFinalResponse() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /early-hints HTTP/1.1\r\nHost: h\r\n\r\n");
            InputStream in = s.getInputStream();
            Wire.Message hints = Wire.readResponse(in, false);
            assertThat(hints.status()).isEqualTo(103);
            assertThat(hints.header("Link")).isEqualTo("</style.css>; rel=preload");
            Wire.Message res = Wire.readResponse(in, false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.bodyText()).isEqualTo("final");
        }
    }

    @Test
    void http10KeepAliveClientNeverGetsChunkedOrInformational() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /early-hints HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.bodyText()).isEqualTo("final");
        }
        try (Socket s = connect()) {
            write(s, "GET /close-delimited HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
            Wire.Message res = Wire.readResponse(s.getInputStream(), false);
            assertThat(res.header("Transfer-Encoding")).isNull();
            assertThat(res.framing()).isEqualTo("close");
            assertThat(res.bodyText()).isEqualTo("until the end");
        }
    }

    @Test
    void largeChunkedResponseArrivesIntact() throws IOException {
        try (Socket s = connect()) {
            write(s, "GET /big-chunked HTTP/1.1\r\nHost: h\r\n\r\n");
            Wire.Message res = Wire.readResponse(new java.io.BufferedInputStream(s.getInputStream()), false);
            assertThat(res.framing()).isEqualTo("chunked");
            assertThat(res.body()).isEqualTo(BIG);
        }
    }
}
