package dev.portcullis.http.filters.compression;

import com.aayushatharva.brotli4j.encoder.Encoder;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;
import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Brotli (RFC 7932) through brotli4j's JNI encoder, driven the way brotli's own Java {@code Encoder} drives it:
 * input is copied into the encoder's native input buffer and pushed, output is pulled until none is left. A flush is
 * BROTLI_OPERATION_FLUSH (a decoder then has every byte so far), the end BROTLI_OPERATION_FINISH.
 *
 * <p>Quality {@value #QUALITY}, window 2^{@value #LG_WINDOW} bytes (256 KiB), text mode: see docs/compression.md
 * for the measurements (on a 125 KiB JSON body quality 5 gave 13% smaller output than 4 for 1.7-2.3x the CPU, and
 * 2 MiB of state per stream instead of 1.2 MiB, mostly the hash table; a larger window only adds memory for web
 * bodies.
 */
final class BrotliEncoder extends BodyEncoder {
    static final int QUALITY = 4;
    static final int LG_WINDOW = 18;
    private static final int INPUT_BUFFER = 32 * 1024;

    private final EncoderJNI.Wrapper encoder;

    BrotliEncoder(ByteBufAllocator alloc, CompressionStats stats) {
        super(alloc, stats, Algorithm.BR);
        try {
            encoder = new EncoderJNI.Wrapper(INPUT_BUFFER, QUALITY, LG_WINDOW, Encoder.Mode.TEXT);
        } catch (IOException e) {
            throw new UncheckedIOException("brotli encoder could not be created", e);
        }
    }

    @Override
    void encode(ByteBuf in, ByteBuf out) {
        ByteBuffer input = encoder.getInputBuffer();
        while (in.isReadable()) {
            int n = Math.min(in.readableBytes(), input.capacity());
            input.clear().limit(n);
            in.readBytes(input);
            run(EncoderJNI.Operation.PROCESS, n, out);
        }
    }

    @Override
    void flushTo(ByteBuf out) {
        run(EncoderJNI.Operation.FLUSH, 0, out);
    }

    @Override
    void finishTo(ByteBuf out) {
        run(EncoderJNI.Operation.FINISH, 0, out);
    }

    /** Pushes {@code length} bytes of the input buffer with {@code op}, and takes all the output it gives. */
    private void run(EncoderJNI.Operation op, int length, ByteBuf out) {
        boolean pushed = false;
        while (true) {
            if (!encoder.isSuccess()) {
                throw new IllegalStateException("brotli encoding failed");
            } else if (encoder.hasMoreOutput()) {
                out.writeBytes(encoder.pull());
            } else if (encoder.hasRemainingInput()) {
                encoder.push(op, 0);
            } else if (!pushed) {
                encoder.push(op, length);
                pushed = true;
            } else {
                return;
            }
        }
    }

    @Override
    void free() {
        encoder.destroy();
    }
}
