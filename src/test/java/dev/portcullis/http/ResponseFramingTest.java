package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.StreamingBackend;
import dev.portcullis.testing.TestProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Transfer-Encoding is hop-by-hop: a body without Content-Length must be framed again for the client. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ResponseFramingTest {
    @Test
    void aChunkedUpstreamResponseIsChunkedToAKeepAliveClient() throws Exception {
        try (StreamingBackend backend = new StreamingBackend(); TestProxy p = TestProxy.toOneUpstream(backend.address());
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (String mode : new String[] {"chunked", "close", "length"}) {
                out.write(("GET /download?size=10&mode=" + mode + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                // Without framing the client could only wait for the connection to close: this read would time out.
                String head = readUntil(in, "\r\n\r\n");
                assertThat(head).as(mode).startsWith("HTTP/1.1 200");
                if (mode.equals("length")) {
                    assertThat(head.toLowerCase()).contains("content-length: 10");
                    in.readNBytes(10);
                } else {
                    assertThat(head.toLowerCase()).as(mode).contains("transfer-encoding: chunked");
                    assertThat(readUntil(in, "\r\n0\r\n\r\n")).startsWith("a\r\n");
                }
            }
        }
    }

    @Test
    void aChunkedUpstreamResponseIsCloseDelimitedForAnHttp10Client() throws Exception {
        try (StreamingBackend backend = new StreamingBackend(); TestProxy p = TestProxy.toOneUpstream(backend.address())) {
            String r = RawHttp.exchange(p.port("web"), "GET /download?size=10&mode=chunked HTTP/1.0\r\nHost: x\r\n\r\n", 5000);
            assertThat(RawHttp.status(r)).isEqualTo(200);
            assertThat(r.toLowerCase()).doesNotContain("transfer-encoding").contains("connection: close");
            assertThat(r.substring(r.indexOf("\r\n\r\n") + 4)).hasSize(10);
        }
    }

    private static String readUntil(InputStream in, String end) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith(end)) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException("closed after: " + sb);
            }
            sb.append((char) c);
        }
        return sb.toString();
    }
}
