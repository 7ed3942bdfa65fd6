package dev.portcullis.http.filters.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.github.luben.zstd.ZstdInputStream;
import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.testing.Decoders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The streaming encoders on their own: what they write decodes (with the reference decoders: brotli4j, zstd-jni, the
 * JDK's GZIPInputStream) to exactly what went in, whatever the chunking; a flush makes every byte so far decodable;
 * every buffer is released (the leak detector runs at paranoid).
 */
class BodyEncoderTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private final CompressionStats stats = new ProxyMetrics().compression("unit");

    static byte[] text(int size, long seed) {
        String[] words = {"portcullis", "proxy", "stream", "chunk", "header", "body", "gzip", "brotli", "zstd",
            "the", "a", "of", "response", "request", "{\"id\":", "\"name\":", "\n"};
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(size + 32);
        while (sb.length() < size) {
            sb.append(words[r.nextInt(words.length)]).append(' ').append(r.nextInt(1000)).append(' ');
        }
        return sb.substring(0, size).getBytes(StandardCharsets.ISO_8859_1);
    }

    static InputStream decoder(Algorithm a, InputStream in) throws IOException {
        return switch (a) {
            case BR -> {
                BrotliInputStream b = new BrotliInputStream(in);
                b.enableEagerOutput(); // hand out what a flush made decodable, without waiting for more input
                yield b;
            }
            case ZSTD -> new ZstdInputStream(in);
            case GZIP -> new GZIPInputStream(in);
        };
    }

    static byte[] decode(Algorithm a, byte[] encoded) throws IOException {
        try (InputStream in = decoder(a, new ByteArrayInputStream(encoded))) {
            return in.readAllBytes();
        }
    }

    private static void drain(ByteBuf b, ByteArrayOutputStream out) {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        out.writeBytes(bytes);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void roundTripInUnevenChunks(Algorithm a) throws IOException {
        byte[] body = text(300_000, 1);
        BodyEncoder e = Codecs.encoder(a, ALLOC, stats);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Random r = new Random(2);
        int pos = 0;
        boolean heap = false;
        while (pos < body.length) {
            int n = Math.min(body.length - pos, 1 + r.nextInt(70_000));
            ByteBuf chunk = heap ? Unpooled.wrappedBuffer(body.clone(), pos, n) : ALLOC.directBuffer(n).writeBytes(body, pos, n);
            heap = !heap;
            drain(e.transform(chunk), out);
            pos += n;
            if (r.nextInt(4) == 0) {
                drain(e.flush(), out);
            }
        }
        drain(e.finish(), out);
        byte[] encoded = out.toByteArray();
        assertThat(decode(a, encoded)).isEqualTo(body);
        assertThat(encoded.length).isLessThan(body.length / 2);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aFlushMakesEverySoFarDecodable(Algorithm a) throws IOException {
        BodyEncoder e = Codecs.encoder(a, ALLOC, stats);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] event = "data: {\"tick\": 1}\n\n".getBytes(StandardCharsets.UTF_8);
        drain(e.transform(Unpooled.copiedBuffer(event)), out);
        drain(e.flush(), out);
        // Decode what was written so far, without the end of the stream: the event must be there already.
        try (Decoders.Incremental d = Decoders.incremental(a.token())) {
            byte[] sofar = out.toByteArray();
            assertThat(d.feed(sofar, 0, sofar.length)).isEqualTo(event);
        }
        drain(e.finish(), out);
        assertThat(decode(a, out.toByteArray())).isEqualTo(event);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void anEmptyBodyIsAValidStream(Algorithm a) throws IOException {
        BodyEncoder e = Codecs.encoder(a, ALLOC, stats);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        drain(e.transform(Unpooled.EMPTY_BUFFER), out);
        drain(e.finish(), out);
        assertThat(decode(a, out.toByteArray())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void compositeInputAndAbandon(Algorithm a) throws IOException {
        BodyEncoder e = Codecs.encoder(a, ALLOC, stats);
        CompositeByteBuf c = ALLOC.compositeDirectBuffer();
        c.addComponent(true, ALLOC.directBuffer().writeBytes(text(10_000, 3)));
        c.addComponent(true, Unpooled.wrappedBuffer(text(10_000, 4)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        drain(e.transform(c), out);
        assertThat(c.refCnt()).isZero();
        e.abandon();
        e.abandon(); // idempotent
        ByteBuf late = ALLOC.directBuffer().writeBytes(new byte[] {1, 2, 3});
        assertThat(e.transform(late).isReadable()).isFalse(); // ignored after the end, and released
        assertThat(late.refCnt()).isZero();
        assertThat(e.finish().isReadable()).isFalse();
    }

    @Test
    void incompressibleInputGrowsTheOutputBuffer() throws IOException {
        byte[] noise = new byte[200_000];
        new Random(5).nextBytes(noise);
        for (Algorithm a : Algorithm.values()) {
            BodyEncoder e = Codecs.encoder(a, ALLOC, stats);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            drain(e.transform(Unpooled.wrappedBuffer(noise)), out);
            drain(e.flush(), out);
            drain(e.finish(), out);
            assertThat(decode(a, out.toByteArray())).as(a.token()).isEqualTo(noise);
        }
    }

    @Test
    void bytesAreCountedWhenTheEncoderEnds() {
        CompressionStats s = new ProxyMetrics().compression("count");
        BodyEncoder e = Codecs.encoder(Algorithm.GZIP, ALLOC, s);
        e.transform(Unpooled.copiedBuffer(text(5000, 6))).release();
        e.finish().release();
        assertThat(s.responses(Algorithm.GZIP)).isZero(); // counted by the filter, per response
    }

    @Test
    void aLibraryThatDidNotLoadIsLeftOut() {
        List<Algorithm> all = List.of(Algorithm.BR, Algorithm.ZSTD, Algorithm.GZIP);
        assertThat(Codecs.usable(all, EnumSet.of(Algorithm.GZIP, Algorithm.ZSTD)))
                .containsExactly(Algorithm.ZSTD, Algorithm.GZIP);
        assertThat(Codecs.usable(List.of(Algorithm.BR), EnumSet.of(Algorithm.GZIP))).isEmpty();
        assertThat(Codecs.available()).containsExactlyInAnyOrder(Algorithm.values()); // linux-x86_64 ships all
    }

    @Test
    void aFailedStepFreesTheEncoderAndReleasesTheInput() {
        BodyEncoder broken = new BodyEncoder(ALLOC, stats, Algorithm.GZIP) {
            @Override
            void encode(ByteBuf in, ByteBuf out) {
                throw new IllegalStateException("codec error");
            }

            @Override
            void flushTo(ByteBuf out) {
            }

            @Override
            void finishTo(ByteBuf out) {
            }

            @Override
            void free() {
            }
        };
        ByteBuf in = ALLOC.directBuffer().writeBytes(new byte[100]);
        assertThatThrownBy(() -> broken.transform(in)).hasMessage("codec error");
        assertThat(in.refCnt()).isZero();
        assertThat(broken.finish().isReadable()).isFalse();
    }
}
