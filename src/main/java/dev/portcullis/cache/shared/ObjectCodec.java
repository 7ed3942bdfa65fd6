package dev.portcullis.cache.shared;

import dev.portcullis.cache.store.Body;
import dev.portcullis.cache.store.HeaderList;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The shared tier's value format: one stored response as bytes, checked on the way back.
 *
 * <pre>
 * "PCS1"              magic and version
 * u32 metaLength      then the metadata:
 *   str primaryKey, str variantKey, u16 status, str reason, i64 requestTime, i64 responseTime, str vary,
 *   u32 tagCount, str tag..., u32 headerCount, (str name, str value)...
 *   (str = u32 byte length + UTF-8)
 * u64 bodyLength, then the body
 * u32 CRC32C          of every byte before it
 * </pre>
 *
 * Big-endian. Whatever does not verify (magic, lengths, checksum, the keys the caller expects) is refused with
 * {@link Corrupt}: the tier never hands out a damaged or foreign object.
 */
final class ObjectCodec {
    private static final int MAGIC = 0x50435331; // "PCS1"
    /** magic, meta length, body length, checksum. */
    static final int FRAME = 4 + 4 + 8 + 4;

    private ObjectCodec() {
    }

    /** A value that cannot be used; {@code getMessage()} says why (for the log). */
    static final class Corrupt extends Exception {
        Corrupt(String why) {
            super(why, null, false, false);
        }
    }

    /** The encoded size of the metadata (without the frame or the body). */
    static int metaSize(ResponseMeta m) {
        long n = str(m.primaryKey()) + str(m.variantKey()) + 2 + str(m.reason()) + 8 + 8 + str(m.vary()) + 4;
        for (String t : m.tags()) {
            n += str(t);
        }
        n += 4;
        HeaderList h = m.headers();
        for (int i = 0; i < h.size(); i++) {
            n += str(h.name(i)) + str(h.value(i));
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    private static long str(String s) {
        return 4 + utf8Length(s);
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3; // a lone surrogate is written as '?' (1 byte) by the encoder: over-counting is harmless
            }
        }
        return n;
    }

    /** The whole value for a complete response; the caller holds a reference while this runs. */
    static byte[] encode(StoredResponse r) {
        ResponseMeta m = r.meta();
        byte[] meta = meta(m);
        long bodyLength = r.bodyLength();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(FRAME + meta.length + bodyLength));
        out.putInt(MAGIC).putInt(meta.length).put(meta).putLong(bodyLength);
        r.body().forEachChunk(chunk -> {
            int n = chunk.readableBytes();
            chunk.getBytes(chunk.readerIndex(), out.array(), out.position(), n);
            out.position(out.position() + n);
        });
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    private static byte[] meta(ResponseMeta m) {
        ByteBuffer b = ByteBuffer.allocate(metaSize(m));
        put(b, m.primaryKey());
        put(b, m.variantKey());
        b.putShort((short) m.status());
        put(b, m.reason());
        b.putLong(m.requestTimeMillis()).putLong(m.responseTimeMillis());
        put(b, m.vary());
        b.putInt(m.tags().size());
        for (String t : m.tags()) {
            put(b, t);
        }
        HeaderList h = m.headers();
        b.putInt(h.size());
        for (int i = 0; i < h.size(); i++) {
            put(b, h.name(i));
            put(b, h.value(i));
        }
        // a lone surrogate encodes shorter than counted: trim to what was written
        return b.position() == b.capacity() ? b.array() : java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void put(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putInt(bytes.length).put(bytes);
    }

    /**
     * Checks and rebuilds a value. The body is copied into pooled chunks from {@code alloc}; the result carries one
     * reference for the caller.
     *
     * @param primaryKey the key the caller looked up: a value stored under another (a hash collision) is refused
     * @param variantKey likewise
     */
    static StoredResponse decode(byte[] value, String primaryKey, String variantKey, ByteBufAllocator alloc)
            throws Corrupt {
        if (value.length < FRAME) {
            throw new Corrupt("too short (" + value.length + " bytes)");
        }
        ByteBuffer in = ByteBuffer.wrap(value);
        if (in.getInt() != MAGIC) {
            throw new Corrupt("not a Portcullis object (bad magic)");
        }
        CRC32C crc = new CRC32C();
        crc.update(value, 0, value.length - 4);
        if ((int) crc.getValue() != in.getInt(value.length - 4)) {
            throw new Corrupt("checksum mismatch");
        }
        int metaLength = in.getInt();
        if (metaLength < 0 || metaLength > value.length - FRAME) {
            throw new Corrupt("metadata length " + metaLength + " out of bounds");
        }
        ByteBuffer meta = ByteBuffer.wrap(value, 8, metaLength).slice();
        ResponseMeta m;
        try {
            m = meta(meta);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new Corrupt("malformed metadata (" + e + ")");
        }
        if (meta.hasRemaining()) {
            throw new Corrupt("metadata has " + meta.remaining() + " bytes left over");
        }
        if (!m.primaryKey().equals(primaryKey) || !m.variantKey().equals(variantKey)) {
            throw new Corrupt("stored for another key (" + m.primaryKey() + ")");
        }
        in.position(8 + metaLength);
        long bodyLength = in.getLong();
        int bodyStart = in.position();
        if (bodyLength != value.length - 4 - bodyStart) {
            throw new Corrupt("body length " + bodyLength + " does not match the value's size");
        }
        Body body = Body.open(alloc, bodyLength, bodyLength);
        ByteBuf src = Unpooled.wrappedBuffer(value, bodyStart, (int) bodyLength);
        boolean copied = bodyLength == 0 || body.append(src);
        src.release();
        if (!copied) {
            body.release();
            throw new Corrupt("no memory for its body");
        }
        body.seal();
        return StoredResponse.of(m, body);
    }

    private static ResponseMeta meta(ByteBuffer b) {
        String primaryKey = get(b);
        String variantKey = get(b);
        int status = b.getShort() & 0xFFFF;
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status " + status);
        }
        String reason = get(b);
        long requestTime = b.getLong();
        long responseTime = b.getLong();
        String vary = get(b);
        int tagCount = count(b, 4);
        List<String> tags = new ArrayList<>(tagCount);
        for (int i = 0; i < tagCount; i++) {
            tags.add(get(b));
        }
        int headerCount = count(b, 8);
        String[] pairs = new String[headerCount * 2];
        for (int i = 0; i < pairs.length; i++) {
            pairs[i] = get(b);
        }
        return new ResponseMeta(primaryKey, variantKey, status, reason, HeaderList.of(pairs), requestTime,
                responseTime, tags, vary);
    }

    /** A count of items of at least {@code minItemBytes} each: more than the bytes left can hold is malformed. */
    private static int count(ByteBuffer b, int minItemBytes) {
        int n = b.getInt();
        if (n < 0 || (long) n * minItemBytes > b.remaining()) {
            throw new IllegalArgumentException("count " + n);
        }
        return n;
    }

    private static String get(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("string length " + n);
        }
        String s = new String(b.array(), b.arrayOffset() + b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n);
        return s;
    }
}
