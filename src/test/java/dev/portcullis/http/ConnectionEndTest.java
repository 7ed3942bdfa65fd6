package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** How an exchange's end leaves the connection: nothing trusted after a close decision, reading resumed after keep-alive. */
class ConnectionEndTest {

    @Test
    void aRequestPipelinedAfterAFatalErrorIsNeverForwarded() throws Exception {
        try (TestBackend be = TestBackend.start("be"); TestProxy p = TestProxy.toOneUpstream(be.address());
             RawExchange c = new RawExchange(p.port("web"))) {
            c.write("GET /first HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
                    + "POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
            RawExchange.Result r = c.readUntilClose(2000);
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.closed()).isTrue();
            assertThat(r.text()).doesNotContain("be POST");
            Thread.sleep(300);
            assertThat(be.seen).isEmpty();
        }
    }

    @Test
    void aKeepAliveConnectionReadsAgainAfterAnExchangeEndedWhileItsUploadWasPaused() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (TestProxy p = TestProxy.toOneUpstream("127.0.0.1:" + deadPort);
             RawExchange c = new RawExchange(p.port("web"))) {
            // Many chunks in one write: the proxy pauses reading while it (fails to) connect.
            StringBuilder req = new StringBuilder("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 40; i++) {
                req.append("4\r\nabcd\r\n");
            }
            req.append("0\r\n\r\n");
            c.write(req.toString());
            RawExchange.Result first = c.readResponse(3000);
            assertThat(first.status()).isEqualTo(502);
            c.write("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
            RawExchange.Result second = c.readResponse(3000);
            assertThat(second.status()).as("the connection must read the next request").isEqualTo(502);
        }
    }

    @Test
    void anHttp10RequestWithoutHostNamesTheEndpointActuallyTried() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (TestBackend be = TestBackend.start("be"); TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [127.0.0.1:%d, %s] }
                """.formatted(deadPort, be.address()))) {
            for (int i = 0; i < 2; i++) {
                RawExchange.Result r = RawExchange.send(p.port("web"), "GET /old HTTP/1.0\r\n\r\n", 3000);
                assertThat(r.status()).isEqualTo(200);
            }
            assertThat(be.seen).hasSize(2).allSatisfy(s -> assertThat(s.header("Host")).isEqualTo(be.address()));
        }
    }

    @Test
    void aClientStillUploadingReadsThe413InsteadOfAReset() throws Exception {
        try (TestBackend be = TestBackend.start("be"); TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    limits: { max_body_size: 64KiB }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(be.address()));
             java.net.Socket s = new java.net.Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            var out = s.getOutputStream();
            out.write("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4194304\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // Keep sending the body the proxy refused, as a real client does until it reads the answer.
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[16 * 1024];
                try {
                    for (int i = 0; i < 256; i++) {
                        out.write(chunk);
                    }
                } catch (java.io.IOException expected) {
                    // the proxy closes in the end
                }
            });
            writer.start();
            String head = new String(s.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 413");
            writer.join(5000);
            assertThat(be.seen).isEmpty();
        }
    }

    /**
     * A client that asked for the close (HTTP/1.0 without keep-alive) and sent nothing more is closed at once, as
     * nginx does; the lingering close (2 s of reading and dropping) is for clients that may still be sending.
     */
    @Test
    void aClientThatAskedForTheCloseAndSentNothingMoreIsClosedAtOnce() throws Exception {
        try (TestBackend be = TestBackend.start("be"); TestProxy p = TestProxy.toOneUpstream(be.address());
             RawExchange c = new RawExchange(p.port("web"))) {
            c.write("GET /x HTTP/1.0\r\n\r\n");
            RawExchange.Result r = c.readUntilClose(5000);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.closed()).isTrue();
            // A lingering proxy would go on reading (and dropping) what we send; a closed socket answers with a
            // reset, which makes a later write fail.
            long deadline = System.nanoTime() + (ResponseWriter.LINGER_MILLIS - 500) * 1_000_000L;
            boolean refused = false;
            while (!refused && System.nanoTime() < deadline) {
                try {
                    c.write("x");
                    Thread.sleep(50);
                } catch (java.io.IOException e) {
                    refused = true;
                }
            }
            assertThat(refused).as("the proxy closed the connection instead of lingering").isTrue();
        }
    }
}
