package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.HeaderList;
import dev.portcullis.cache.store.ResponseMeta;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of one stored object on disk (format version 1, big-endian):
 *
 * <pre>
 *   offset  size  field
 *        0     8  magic "PCACHE\r\n" (the CR LF catches a text-mode copy)
 *        8     2  format version (1)
 *       10     2  flags (0)
 *       12     4  meta length M
 *       16     8  body length B
 *       24     4  CRC32C of bytes 0..24 and the meta: a scan verifies the head without reading the body
 *       28     M  meta: primary key, variant key, status, reason, request time, response time, header fields,
 *                 tags, Vary (strings as a 4-byte length and UTF-8 bytes; lists as a 4-byte count)
 *     28+M     B  body
 *   28+M+B     4  CRC32C of everything before it: a load verifies every byte before it serves one
 * </pre>
 *
 * A file shorter or longer than {@code 28 + M + B + 4} is truncated or foreign; either way it is damaged.
 */
final class DiskFormat {
    static final byte[] MAGIC = {'P', 'C', 'A', 'C', 'H', 'E', '\r', '\n'};
    static final short VERSION = 1;
    static final int HEADER = 28;
    static final int TRAILER = 4;
    /** A meta section larger than this is not written (and refused when read): keys and heads are small. */
    static final int MAX_META = 4 << 20;

    private DiskFormat() {
    }

    /** The meta section's bytes. */
    static byte[] encodeMeta(ResponseMeta m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + (int) Math.min(1 << 16, m.headers().byteSize()));
        string(out, m.primaryKey());
        string(out, m.variantKey());
        int32(out, m.status());
        string(out, m.reason());
        int64(out, m.requestTimeMillis());
        int64(out, m.responseTimeMillis());
        HeaderList h = m.headers();
        int32(out, h.size());
        for (int i = 0; i < h.size(); i++) {
            string(out, h.name(i));
            string(out, h.value(i));
        }
        int32(out, m.tags().size());
        for (String t : m.tags()) {
            string(out, t);
        }
        string(out, m.vary());
        return out.toByteArray();
    }

    /** The fixed header, ready to write, with the checksum over itself and {@code meta}. */
    static ByteBuffer header(byte[] meta, long bodyLength) {
        ByteBuffer b = ByteBuffer.allocate(HEADER);
        b.put(MAGIC).putShort(VERSION).putShort((short) 0).putInt(meta.length).putLong(bodyLength);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 24);
        crc.update(meta);
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /** What the fixed header says, checked against the file's size. */
    record Header(int metaLength, long bodyLength, int metaCrc) {
        long fileSize() {
            return HEADER + (long) metaLength + bodyLength + TRAILER;
        }
    }

    static Header parseHeader(ByteBuffer b, long fileSize) throws DamagedFileException {
        if (fileSize < HEADER + TRAILER) {
            throw new DamagedFileException("truncated (" + fileSize + " bytes)");
        }
        for (byte m : MAGIC) {
            if (b.get() != m) {
                throw new DamagedFileException("not a cache file (bad magic)");
            }
        }
        short version = b.getShort();
        if (version != VERSION) {
            throw new DamagedFileException("unknown format version " + version);
        }
        b.getShort(); // flags: none defined yet
        int metaLength = b.getInt();
        long bodyLength = b.getLong();
        int metaCrc = b.getInt();
        if (metaLength < 0 || metaLength > MAX_META || bodyLength < 0) {
            throw new DamagedFileException("bad lengths (meta " + metaLength + ", body " + bodyLength + ")");
        }
        Header h = new Header(metaLength, bodyLength, metaCrc);
        if (h.fileSize() != fileSize) {
            throw new DamagedFileException((fileSize < h.fileSize() ? "truncated" : "too long") + " (" + fileSize
                    + " bytes, the header says " + h.fileSize() + ")");
        }
        return h;
    }

    /** Checks the head's checksum ({@code header} is the 28 header bytes) and reads the meta. */
    static ResponseMeta verifyAndDecodeMeta(ByteBuffer header, Header h, byte[] meta) throws DamagedFileException {
        CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, 24);
        crc.update(meta);
        if ((int) crc.getValue() != h.metaCrc()) {
            throw new DamagedFileException("head checksum mismatch");
        }
        return decodeMeta(ByteBuffer.wrap(meta));
    }

    static ResponseMeta decodeMeta(ByteBuffer b) throws DamagedFileException {
        try {
            String primary = string(b);
            String variant = string(b);
            int status = b.getInt();
            String reason = string(b);
            long requestTime = b.getLong();
            long responseTime = b.getLong();
            int fields = count(b, 8);
            String[] pairs = new String[fields * 2];
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] = string(b);
            }
            int tagCount = count(b, 4);
            List<String> tags = new ArrayList<>(tagCount);
            for (int i = 0; i < tagCount; i++) {
                tags.add(string(b));
            }
            String vary = string(b);
            if (b.hasRemaining()) {
                throw new DamagedFileException("meta has " + b.remaining() + " bytes too many");
            }
            if (status < 100 || status > 999) {
                throw new DamagedFileException("bad status " + status);
            }
            return new ResponseMeta(primary, variant, status, reason, HeaderList.of(pairs), requestTime,
                    responseTime, tags, vary);
        } catch (BufferUnderflowException e) {
            throw new DamagedFileException("meta is cut short");
        }
    }

    /** A count of items of at least {@code minBytes} each, bounded by what is left (a damaged count allocates nothing). */
    private static int count(ByteBuffer b, int minBytes) throws DamagedFileException {
        int n = b.getInt();
        if (n < 0 || (long) n * minBytes > b.remaining()) {
            throw new DamagedFileException("bad count " + n);
        }
        return n;
    }

    private static String string(ByteBuffer b) throws DamagedFileException {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new DamagedFileException("bad string length " + n);
        }
        if (n == 0) {
            return ""; // one instance for the many empty variant keys and Vary values the index keeps
        }
        String s = new String(b.array(), b.arrayOffset() + b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n);
        return s;
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int32(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void int32(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void int64(ByteArrayOutputStream out, long v) {
        int32(out, (int) (v >>> 32));
        int32(out, (int) v);
    }
}
