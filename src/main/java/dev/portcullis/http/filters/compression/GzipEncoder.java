package dev.portcullis.http.filters.compression;

import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) through the JDK's zlib {@link Deflater} on NIO buffers, so pooled direct buffers go to zlib without
 * a copy: a 10-byte header, raw deflate, then CRC-32 and length. A flush is zlib's SYNC_FLUSH (an empty stored
 * block), after which a decoder has every byte so far.
 *
 * <p>Level {@value #LEVEL}: see docs/compression.md for the measurements behind it. zlib's state is about 256 KiB per
 * stream (32 KiB window, default memLevel), in native memory, freed by {@link Deflater#end()}.
 */
final class GzipEncoder extends BodyEncoder {
    static final int LEVEL = 5;
    /** Magic, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952 §2.3). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Deflater deflater = new Deflater(LEVEL, true);
    private final CRC32 crc = new CRC32();
    private boolean headerWritten;

    GzipEncoder(ByteBufAllocator alloc, CompressionStats stats) {
        super(alloc, stats, Algorithm.GZIP);
    }

    @Override
    void encode(ByteBuf in, ByteBuf out) {
        header(out);
        encodeNio(in, out, this::encode);
    }

    private void encode(ByteBuffer in, ByteBuf out) {
        int p = in.position();
        crc.update(in);
        in.position(p);
        deflater.setInput(in);
        while (!deflater.needsInput()) {
            deflate(out, Deflater.NO_FLUSH);
        }
    }

    @Override
    void flushTo(ByteBuf out) {
        header(out);
        // As the JDK says for SYNC_FLUSH: when the output filled the space given, call again with more.
        while (deflate(out, Deflater.SYNC_FLUSH)) {
            // more output pending
        }
    }

    @Override
    void finishTo(ByteBuf out) {
        header(out);
        deflater.finish();
        while (!deflater.finished()) {
            deflate(out, Deflater.NO_FLUSH);
        }
        out.writeIntLE((int) crc.getValue());
        out.writeIntLE((int) bytesIn()); // ISIZE: the length modulo 2^32
    }

    /** @return true when the output space was filled (there may be more) */
    private boolean deflate(ByteBuf out, int flush) {
        ByteBuffer nio = writable(out, MIN_OUT);
        int start = nio.position();
        int space = nio.remaining();
        int n = deflater.deflate(nio, flush);
        produced(out, nio, start);
        return n == space;
    }

    private void header(ByteBuf out) {
        if (!headerWritten) {
            headerWritten = true;
            out.writeBytes(HEADER);
        }
    }

    @Override
    void free() {
        deflater.end();
    }
}
