package dev.portcullis.http.filters.compression;

import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.http.filter.ResponseBodyTransform;
import dev.portcullis.observe.CompressionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;

/**
 * One response body's streaming encoder: the bookkeeping every algorithm shares (output buffers from the client
 * connection's pooled allocator, byte counts for the metrics, freeing the native state exactly once), around the
 * algorithm's three steps: take input, flush, finish.
 *
 * <p>Memory per stream is the codec's state (bounded by its window, see each subclass) plus at most one output
 * buffer in flight; nothing accumulates, as every call hands its output to the writer.
 */
abstract class BodyEncoder implements ResponseBodyTransform {
    /** The smallest output buffer asked for: codecs write their block headers and flush markers into it. */
    static final int MIN_OUT = 512;
    private static final int ENCODE = 0;
    private static final int FLUSH = 1;
    private static final int FINISH = 2;

    private final ByteBufAllocator alloc;
    private final CompressionStats stats;
    private final Algorithm algorithm;
    private long bytesIn;
    private long bytesOut;
    private boolean ended;

    BodyEncoder(ByteBufAllocator alloc, CompressionStats stats, Algorithm algorithm) {
        this.alloc = alloc;
        this.stats = stats;
        this.algorithm = algorithm;
    }

    /** Compresses {@code in} (all of its readable bytes) into {@code out}, growing it as needed. */
    abstract void encode(ByteBuf in, ByteBuf out);

    /** One NIO view of the input, for codecs whose APIs take ByteBuffers. */
    @FunctionalInterface
    interface NioStep {
        void encode(ByteBuffer in, ByteBuf out);
    }

    /** Feeds every readable byte of {@code in} to {@code step} as NIO buffers (no copy), then consumes them. */
    static void encodeNio(ByteBuf in, ByteBuf out, NioStep step) {
        int n = in.readableBytes();
        if (in.nioBufferCount() == 1) {
            step.encode(in.nioBuffer(in.readerIndex(), n), out);
        } else {
            for (ByteBuffer b : in.nioBuffers(in.readerIndex(), n)) {
                step.encode(b, out);
            }
        }
        in.skipBytes(n);
    }

    /** Writes out everything the input so far can give, so that a decoder can produce all of it. */
    abstract void flushTo(ByteBuf out);

    /** Ends the stream (trailer included) into {@code out}. */
    abstract void finishTo(ByteBuf out);

    /** Frees the codec's native state; called exactly once. */
    abstract void free();

    /** Bytes taken so far (gzip's trailer needs the count). */
    final long bytesIn() {
        return bytesIn;
    }

    @Override
    public final ByteBuf transform(ByteBuf in) {
        try {
            int n = in.readableBytes();
            if (ended || n == 0) {
                return Unpooled.EMPTY_BUFFER;
            }
            bytesIn += n;
            return run(alloc.directBuffer(Math.max(MIN_OUT, n >>> 1)), ENCODE, in);
        } finally {
            in.release();
        }
    }

    @Override
    public final ByteBuf flush() {
        if (ended) {
            return Unpooled.EMPTY_BUFFER;
        }
        return run(alloc.directBuffer(MIN_OUT), FLUSH, null);
    }

    @Override
    public final ByteBuf finish() {
        if (ended) {
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf result = run(alloc.directBuffer(MIN_OUT), FINISH, null);
        end();
        return result;
    }

    @Override
    public final void abandon() {
        if (!ended) {
            end();
        }
    }

    /** Runs one codec step into {@code out}; on failure the output and the codec are freed and the error goes on. */
    private ByteBuf run(ByteBuf out, int step, ByteBuf in) {
        try {
            switch (step) {
                case ENCODE -> encode(in, out);
                case FLUSH -> flushTo(out);
                default -> finishTo(out);
            }
        } catch (RuntimeException | Error e) {
            out.release();
            end();
            throw e;
        }
        if (!out.isReadable()) {
            out.release();
            return Unpooled.EMPTY_BUFFER;
        }
        bytesOut += out.readableBytes();
        return out;
    }

    private void end() {
        ended = true;
        try {
            free();
        } finally {
            stats.bytes(algorithm, bytesIn, bytesOut);
        }
    }

    /**
     * The writable part of {@code out} as an NIO buffer, with at least {@code min} bytes (the buffer grows). After
     * the codec wrote into it, {@link #produced} moves the writer index.
     */
    static ByteBuffer writable(ByteBuf out, int min) {
        out.ensureWritable(min);
        return out.internalNioBuffer(out.writerIndex(), out.writableBytes());
    }

    /** Moves {@code out}'s writer index past what a codec wrote into {@code nio} from position {@code start}. */
    static void produced(ByteBuf out, ByteBuffer nio, int start) {
        out.writerIndex(out.writerIndex() + nio.position() - start);
    }
}
