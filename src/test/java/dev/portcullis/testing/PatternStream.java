package dev.portcullis.testing;

import java.io.InputStream;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * A deterministic byte stream of any length, generated on the fly: 64 KiB blocks of fixed pseudo-random
 * bytes whose first 8 bytes are the block's index, so a lost, repeated or reordered block changes the CRC.
 */
public final class PatternStream extends InputStream {
    private static final int BLOCK = 1 << 16;
    private static final byte[] BASE = new byte[BLOCK];

    static {
        new Random(0x5EED).nextBytes(BASE);
    }

    private final long size;
    private long pos;

    public PatternStream(long size) {
        this.size = size;
    }

    /** Writes the bytes at stream positions [pos, pos+len) into buf. */
    public static void fill(long pos, byte[] buf, int off, int len) {
        while (len > 0) {
            long block = pos >>> 16;
            int in = (int) (pos & (BLOCK - 1));
            int n = Math.min(len, BLOCK - in);
            System.arraycopy(BASE, in, buf, off, n);
            for (int j = in; j < 8 && j < in + n; j++) {
                buf[off + j - in] = (byte) (block >>> (8 * j));
            }
            pos += n;
            off += n;
            len -= n;
        }
    }

    /** CRC32 of the first {@code size} bytes of the pattern. */
    public static long crc(long size) {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[BLOCK * 4];
        for (long p = 0; p < size; ) {
            int n = (int) Math.min(buf.length, size - p);
            fill(p, buf, 0, n);
            crc.update(buf, 0, n);
            p += n;
        }
        return crc.getValue();
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (pos >= size) {
            return -1;
        }
        int n = (int) Math.min(len, size - pos);
        fill(pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return (int) Math.min(Integer.MAX_VALUE, size - pos);
    }
}
