package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.H2Wire;
import dev.portcullis.testing.TestProxy;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The known HTTP/2 floods, each sent by a raw client that writes the frames itself (h2c with prior knowledge): the
 * connection gets GOAWAY (or, for a client that never reads, is closed), the proxy's direct memory stays bounded,
 * and a fresh client is served normally afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Http2FloodTest {
    private static final long ENHANCE_YOUR_CALM = 0xB;
    private static final long PROTOCOL_ERROR = 0x1;
    private static final long MEMORY_BOUND = 16L << 20;

    private TestProxy proxy;
    private int port;
    private final AtomicLong peak = new AtomicLong();
    private ScheduledExecutorService probe;

    @BeforeAll
    void start() throws Exception {
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        respond: { status: 200, body: ok }
                """);
        port = proxy.port("web");
    }

    @AfterAll
    void stop() {
        proxy.close();
    }

    @BeforeEach
    void startProbe() {
        peak.set(0);
        probe = Executors.newSingleThreadScheduledExecutor();
        probe.scheduleAtFixedRate(() -> peak.accumulateAndGet(
                ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory(), Math::max),
                0, 5, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stillServingAndBounded() throws Exception {
        probe.shutdownNow();
        try (H2Wire fresh = new H2Wire(port)) {
            fresh.headers(1, H2Wire.get("/fresh", "h"), true);
            fresh.flush();
            H2Wire.Response r = fresh.response(1);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("ok");
        }
        assertThat(peak.get()).as("peak direct memory in use during the flood").isLessThan(MEMORY_BOUND);
    }

    /** Writes frames from another thread until told to stop or the connection breaks. */
    private static Thread flood(H2Wire c, FrameSource source) {
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < 2_000_000 && !Thread.currentThread().isInterrupted(); i++) {
                    source.write(c, i);
                }
                c.flush();
            } catch (IOException | io.netty.handler.codec.http2.Http2Exception e) {
                // the server closed the connection: expected
            }
        }, "flood");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private interface FrameSource {
        void write(H2Wire c, int i) throws IOException, io.netty.handler.codec.http2.Http2Exception;
    }

    @Test
    void rapidReset() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            Thread t = flood(c, (w, i) -> {
                int stream = 1 + 2 * i;
                w.headers(stream, H2Wire.get("/reset", "h"), false);
                w.rst(stream, 0x8); // CANCEL
                if (i % 64 == 0) {
                    w.flush();
                }
            });
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(20_000);
            t.interrupt();
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
            assertThat(c.closedWithin(10_000)).isTrue();
        }
    }

    @Test
    void continuationFloodOfLargeFrames() throws Exception {
        byte[] chunk = literalHeaders(16_000);
        try (H2Wire c = new H2Wire(port)) {
            c.frame(H2Wire.HEADERS, 0, 1, minimalRequestBlock()); // no END_HEADERS
            Thread t = flood(c, (w, i) -> w.frame(H2Wire.CONTINUATION, 0, 1, chunk));
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(20_000);
            t.interrupt();
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(c.closedWithin(10_000)).isTrue();
        }
    }

    @Test
    void continuationFloodOfTinyFrames() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            c.frame(H2Wire.HEADERS, 0, 1, minimalRequestBlock());
            Thread t = flood(c, (w, i) -> w.frame(H2Wire.CONTINUATION, 0, 1, new byte[0]));
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(20_000);
            t.interrupt();
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
            assertThat(c.closedWithin(10_000)).isTrue();
        }
    }

    @Test
    void settingsFloodFromAClientThatNeverReads() throws Exception {
        byte[] batch = repeat(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}, 1000); // empty SETTINGS frames
        try (H2Wire c = new H2Wire(port, 4096)) {
            assertThat(writeUntilClosed(c, batch, 60_000)).as("the server closed the connection").isTrue();
        }
    }

    @Test
    void pingFloodFromAClientThatNeverReads() throws Exception {
        byte[] ping = {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
        try (H2Wire c = new H2Wire(port, 4096)) {
            assertThat(writeUntilClosed(c, repeat(ping, 1000), 60_000)).as("the server closed the connection").isTrue();
        }
    }

    @Test
    void emptyDataFrameFlood() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            // Far fewer than a real flood: the limit is 2 in a row, and the client must still read the GOAWAY
            // (a server closing with unread bytes resets the connection, and the kernel drops what it had read).
            // One write: sent frame by frame, the route's local 200 could end (and reset) the stream before the
            // DATA frames arrive, and frames of a closed stream are dropped uncounted.
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            all.write(H2Wire.frameBytes(H2Wire.HEADERS, H2Wire.END_HEADERS, 1,
                    c.block(new DefaultHttp2Headers().method("POST").scheme("http").path("/empty").authority("h"))));
            for (int i = 0; i < 50; i++) {
                all.write(H2Wire.frameBytes(H2Wire.DATA, 0, 1, new byte[0]));
            }
            c.socket().getOutputStream().write(all.toByteArray());
            c.flush();
            H2Wire.Frame goAway = c.awaitGoAwayOrClose(20_000);
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
        }
    }

    @Test
    void hpackBomb() throws Exception {
        try (H2Wire c = new H2Wire(port)) {
            // Stream 1 puts a 4000-byte header into the server's dynamic table (index 62), and is served.
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.write(minimalRequestBlock());
            first.write(0x40); // literal with incremental indexing, new name
            first.write(6);
            first.write("x-bomb".getBytes(StandardCharsets.US_ASCII));
            first.write(new byte[] {0x7F, (byte) 0xA1, 0x1E}); // length 4000 (7-bit prefix integer)
            byte[] value = new byte[4000];
            Arrays.fill(value, (byte) 'a');
            first.write(value);
            c.frame(H2Wire.HEADERS, H2Wire.END_HEADERS | H2Wire.END_STREAM, 1, first.toByteArray());
            c.flush();
            assertThat(c.response(1).status()).isEqualTo(200);
            // Then blocks of 16 KiB that each decode to 64 MB: 16,000 references to that entry.
            ByteArrayOutputStream bomb = new ByteArrayOutputStream();
            bomb.write(minimalRequestBlock());
            byte[] refs = new byte[16_000];
            Arrays.fill(refs, (byte) (0x80 | 62));
            bomb.write(refs);
            byte[] block = bomb.toByteArray();
            c.frame(H2Wire.HEADERS, H2Wire.END_HEADERS | H2Wire.END_STREAM, 3, block);
            c.flush();
            H2Wire.Response refused = c.response(3);
            assertThat(refused.status()).as("the bomb's stream is refused: " + refused.frames()).isEqualTo(431);
            // Repeated, each answered 431: the streams the proxy must refuse are limited too (as resets), and the
            // connection gets GOAWAY once past the limit.
            H2Wire.Frame goAway = null;
            for (int i = 0; i < 2 * Http2ServerPipeline.MAX_RST_PER_WINDOW && goAway == null; i++) {
                int stream = 5 + 2 * i;
                try {
                    c.frame(H2Wire.HEADERS, H2Wire.END_HEADERS | H2Wire.END_STREAM, stream, block);
                    c.flush();
                } catch (IOException closed) {
                    goAway = c.awaitGoAwayOrClose(10_000); // it came after the last answer read
                    break;
                }
                H2Wire.Frame f;
                do {
                    f = c.read();
                    assertThat(f).as("a frame before the connection ends").isNotNull();
                } while (f.type() != H2Wire.GOAWAY && !(f.type() == H2Wire.HEADERS && f.stream() == stream));
                if (f.type() == H2Wire.GOAWAY) {
                    goAway = f;
                } else {
                    assertThat(f.headers().status().toString()).isEqualTo("431");
                }
            }
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
        }
    }

    /** :method GET, :scheme http, :path /, :authority h (never indexed, so the dynamic table is untouched). */
    private static byte[] minimalRequestBlock() {
        return new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x01, 0x01, 'h'};
    }

    /** About {@code size} bytes of literal headers without indexing (new names). */
    private static byte[] literalHeaders(int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = 0;
        while (out.size() < size) {
            String name = "x-c" + n++;
            out.write(0x00);
            out.write(name.length());
            out.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
            out.write(100);
            byte[] v = new byte[100];
            Arrays.fill(v, (byte) 'v');
            out.writeBytes(v);
        }
        return out.toByteArray();
    }

    private static byte[] repeat(byte[] frame, int times) {
        byte[] out = new byte[frame.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(frame, 0, out, i * frame.length, frame.length);
        }
        return out;
    }

    /** Writes the batch again and again, never reading, until the connection breaks; false after the time limit. */
    private static boolean writeUntilClosed(H2Wire c, byte[] batch, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        boolean[] closed = {false};
        // A write blocked on a full socket buffer only fails once the server resets the connection.
        while (System.currentTimeMillis() < deadline) {
            try {
                c.raw(batch);
            } catch (IOException e) {
                closed[0] = true;
                break;
            }
        }
        return closed[0];
    }
}
