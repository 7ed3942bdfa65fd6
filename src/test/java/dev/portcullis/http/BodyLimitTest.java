package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestProxy;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** max_body_size seen from the upstream's side: what reaches it, and when the client still gets a 413. */
class BodyLimitTest {
    private static final String PROXY = """
            listeners:
              - name: web
                bind: 127.0.0.1:0
                limits: { max_body_size: 1KiB }
                routes:
                  - match: { path_prefix: / }
                    upstream: be
            upstreams:
              be: { endpoints: [%s] }
            """;

    private static String chunk(int n, char c) {
        return Integer.toHexString(n) + "\r\n" + String.valueOf(c).repeat(n) + "\r\n";
    }

    @Test
    void contentLengthOverTheLimitNeverOpensAnUpstreamConnection() throws Exception {
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> s.close());
             TestProxy p = TestProxy.start(PROXY.formatted(be.address()))) {
            RawExchange.Result r = RawExchange.send(p.port("web"),
                    "POST /big HTTP/1.1\r\nHost: good\r\nContent-Length: 1025\r\n\r\n" + "x".repeat(1025), 3000);
            assertThat(r.status()).as(r.text()).isEqualTo(413);
            assertThat(r.closed()).isTrue();
            Thread.sleep(100);
            assertThat(be.connections.get()).isZero();
        }
    }

    @Test
    void chunkedBodyIsStreamedUntilTheLimitThenTheClientGets413() throws Exception {
        AtomicLong upstreamBytes = new AtomicLong();
        AtomicReference<Boolean> upstreamSawEof = new AtomicReference<>(false);
        ScriptedBackend[] self = new ScriptedBackend[1];
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            while (self[0] == null) {
                Thread.sleep(5);
            }
            self[0].readHead(s);
            InputStream in = s.getInputStream();
            byte[] b = new byte[4096];
            int n;
            while ((n = in.read(b)) >= 0) {
                upstreamBytes.addAndGet(n);
            }
            upstreamSawEof.set(true);
        })) {
            self[0] = be;
            try (TestProxy p = TestProxy.start(PROXY.formatted(be.address()));
                 RawExchange c = new RawExchange(p.port("web"))) {
                c.write("POST /big HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(600, 'a'));
                // the first chunk is under the limit: it goes upstream
                await().atMost(Duration.ofSeconds(3)).until(() -> upstreamBytes.get() >= 600);
                c.write(chunk(600, 'b'));
                RawExchange.Result r = c.readUntilClose(3000);
                assertThat(r.status()).as(r.text()).isEqualTo(413);
                assertThat(r.closed()).isTrue();
                // the upstream request is abandoned: its connection is closed, never completed
                await().atMost(Duration.ofSeconds(3)).until(upstreamSawEof::get);
                assertThat(be.heads).hasSize(1);
            }
        }
    }

    @Test
    void chunkedBodyOverTheLimitAfterTheResponseStartedCutsTheConnection() throws Exception {
        ScriptedBackend[] self = new ScriptedBackend[1];
        try (ScriptedBackend be = ScriptedBackend.start((s, i) -> {
            while (self[0] == null) {
                Thread.sleep(5);
            }
            self[0].readHead(s);
            // answer at once, without reading the body, and keep the response open
            ScriptedBackend.write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nearly\r\n");
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // drain
            }
        })) {
            self[0] = be;
            try (TestProxy p = TestProxy.start(PROXY.formatted(be.address()));
                 RawExchange c = new RawExchange(p.port("web"))) {
                c.write("POST /big HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(100, 'a'));
                Thread.sleep(300);
                c.write(chunk(1000, 'b'));
                RawExchange.Result r = c.readUntilClose(3000);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                assertThat(r.text()).contains("early").doesNotContain(" 413 ");
                assertThat(r.closed()).as("the connection is cut, not answered twice").isTrue();
                // the proxy still serves on a new connection (this backend's responses never end: read the start)
                RawExchange.Result next = RawExchange.send(p.port("web"),
                        "POST /small HTTP/1.1\r\nHost: good\r\nContent-Length: 2\r\n\r\nok", 500);
                assertThat(next.status()).isEqualTo(200);
                assertThat(next.text()).contains("early");
            }
        }
    }
}
