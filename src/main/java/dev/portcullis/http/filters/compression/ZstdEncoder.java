package dev.portcullis.http.filters.compression;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;

/**
 * zstd (RFC 8878, content coding per RFC 9659) through zstd-jni's streaming context on NIO buffers (no copy for
 * direct ones). A flush is ZSTD_e_flush (the block so far is closed), the end ZSTD_e_end (the frame's epilogue).
 *
 * <p>Level {@value #LEVEL}; window 2^{@value #WINDOW_LOG} bytes (512 KiB): RFC 9659 asks encoders to stay within
 * 8 MiB, and the smaller window bounds the state to about 1.5 MiB per stream (measured; window, hash and chain
 * tables, block buffers) where the level's default for an unknown length (2 MiB window) takes over 2.5 MiB, for the
 * same ratio on web bodies.
 */
final class ZstdEncoder extends BodyEncoder {
    static final int LEVEL = 3;
    static final int WINDOW_LOG = 19;
    private static final ByteBuffer NO_INPUT = ByteBuffer.allocateDirect(0);

    private final ZstdCompressCtx ctx;

    ZstdEncoder(ByteBufAllocator alloc, CompressionStats stats) {
        super(alloc, stats, Algorithm.ZSTD);
        ctx = new ZstdCompressCtx();
        ctx.setLevel(LEVEL);
        ctx.setWindowLog(WINDOW_LOG);
        ctx.setChecksum(false); // TCP and TLS already check; browsers do not need it
    }

    @Override
    void encode(ByteBuf in, ByteBuf out) {
        encodeNio(in, out, this::encode);
    }

    private void encode(ByteBuffer in, ByteBuf out) {
        while (in.hasRemaining()) {
            // ZSTD_e_continue takes all input it can hold and writes whole blocks as they fill.
            step(in, out, EndDirective.CONTINUE, Math.max(MIN_OUT, in.remaining() >>> 2));
        }
    }

    @Override
    void flushTo(ByteBuf out) {
        while (!step(NO_INPUT.duplicate(), out, EndDirective.FLUSH, 4096)) {
            // the output filled up: more to come
        }
    }

    @Override
    void finishTo(ByteBuf out) {
        while (!step(NO_INPUT.duplicate(), out, EndDirective.END, 4096)) {
            // the output filled up: more to come
        }
    }

    /** @return true when zstd holds nothing more to write for this directive */
    private boolean step(ByteBuffer in, ByteBuf out, EndDirective op, int room) {
        ByteBuffer nio = writable(out, room);
        int start = nio.position();
        boolean done = ctx.compressByteBufferStream(nio, in, op);
        produced(out, nio, start);
        return done;
    }

    @Override
    void free() {
        ctx.close();
    }
}
