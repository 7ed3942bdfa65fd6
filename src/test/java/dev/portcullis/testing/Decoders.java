package dev.portcullis.testing;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/**
 * Reference decoders for the content codings the proxy writes (brotli4j, zstd-jni, the JDK's gzip), whole or
 * incrementally. Incremental decoding hands out every byte the input so far allows and never reads ahead, which
 * brotli4j's BrotliInputStream does (its bulk read asks for more input after each output, so over a live stream it
 * would wait for bytes the test has not let the backend send yet).
 */
public final class Decoders {
    private Decoders() {
    }

    /** Decodes a whole body in {@code coding} ("br", "zstd", "gzip"). */
    public static byte[] decode(String coding, byte[] encoded) throws IOException {
        try (InputStream in = stream(coding, new ByteArrayInputStream(encoded))) {
            return in.readAllBytes();
        }
    }

    /** A decoding stream (for whole bodies: see the class comment for brotli). */
    public static InputStream stream(String coding, InputStream in) throws IOException {
        return switch (coding) {
            case "br" -> new BrotliInputStream(in);
            case "zstd" -> new ZstdInputStream(in);
            case "gzip" -> new GZIPInputStream(in, 64 * 1024);
            default -> throw new IllegalArgumentException(coding);
        };
    }

    /** Takes encoded bytes as they arrive, gives what they decode to. */
    public interface Incremental extends AutoCloseable {
        byte[] feed(byte[] encoded, int off, int len) throws IOException;

        @Override
        void close();
    }

    public static Incremental incremental(String coding) throws IOException {
        return switch (coding) {
            case "br" -> new Brotli();
            case "zstd" -> new Zstd();
            case "gzip" -> new Gzip();
            default -> throw new IllegalArgumentException(coding);
        };
    }

    private static final class Brotli implements Incremental {
        private final DecoderJNI.Wrapper d;

        Brotli() throws IOException {
            Brotli4jLoader.ensureAvailability();
            d = new DecoderJNI.Wrapper(16 * 1024);
        }

        @Override
        public byte[] feed(byte[] encoded, int off, int len) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int pos = off;
            int end = off + len;
            do {
                ByteBuffer in = d.getInputBuffer();
                in.clear();
                int n = Math.min(in.remaining(), end - pos);
                in.put(encoded, pos, n);
                pos += n;
                d.push(n);
                while (true) {
                    DecoderJNI.Status s = d.getStatus();
                    if (d.hasOutput()) {
                        ByteBuffer o = d.pull();
                        byte[] b = new byte[o.remaining()];
                        o.get(b);
                        out.writeBytes(b);
                    } else if (s == DecoderJNI.Status.OK) {
                        d.push(0);
                    } else if (s == DecoderJNI.Status.ERROR) {
                        throw new IOException("corrupt brotli stream");
                    } else {
                        break; // NEEDS_MORE_INPUT or DONE
                    }
                }
            } while (pos < end);
            return out.toByteArray();
        }

        @Override
        public void close() {
            d.destroy();
        }
    }

    private static final class Zstd implements Incremental {
        private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();

        @Override
        public byte[] feed(byte[] encoded, int off, int len) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer src = ByteBuffer.allocateDirect(Math.max(1, len));
            src.put(encoded, off, len).flip();
            ByteBuffer dst = ByteBuffer.allocateDirect(256 * 1024);
            while (true) {
                dst.clear();
                ctx.decompressDirectByteBufferStream(dst, src);
                dst.flip();
                byte[] b = new byte[dst.remaining()];
                dst.get(b);
                out.writeBytes(b);
                if (!src.hasRemaining() && b.length < dst.capacity()) {
                    return out.toByteArray();
                }
            }
        }

        @Override
        public void close() {
            ctx.close();
        }
    }

    /** gzip as the proxy writes it: a 10-byte header without optional fields, raw deflate, an 8-byte trailer. */
    private static final class Gzip implements Incremental {
        private final Inflater inflater = new Inflater(true);
        private int headerLeft = 10;

        @Override
        public byte[] feed(byte[] encoded, int off, int len) throws IOException {
            int skip = Math.min(headerLeft, len);
            headerLeft -= skip;
            off += skip;
            len -= skip;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (len == 0 || inflater.finished()) {
                return out.toByteArray();
            }
            inflater.setInput(encoded, off, len);
            byte[] buf = new byte[64 * 1024];
            try {
                int n;
                while ((n = inflater.inflate(buf)) > 0 || !(inflater.needsInput() || inflater.finished())) {
                    out.write(buf, 0, n);
                }
            } catch (DataFormatException e) {
                throw new IOException(e);
            }
            return out.toByteArray();
        }

        @Override
        public void close() {
            inflater.end();
        }
    }
}
