package dev.portcullis.upstream.lb;

import java.nio.charset.StandardCharsets;

/** 64-bit hashing for consistent hashing: FNV-1a over the bytes, then a SplitMix64 finaliser to spread the bits. */
public final class Hashing {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {}

    public static long hash(CharSequence s) {
        long h = FNV_OFFSET;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            if (c > 0xff) {
                h = (h ^ (c >>> 8)) * FNV_PRIME;
            }
        }
        return mix(h);
    }

    public static long hash(byte[] b) {
        long h = FNV_OFFSET;
        for (byte x : b) {
            h = (h ^ (x & 0xff)) * FNV_PRIME;
        }
        return mix(h);
    }

    public static long hash(String s, int salt) {
        return mix(hash(s) ^ (salt * 0x9E3779B97F4A7C15L));
    }

    /** SplitMix64's finaliser. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
