package dev.portcullis.cache.shared;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The Redis key names of one zone's shared tier, all under {@code portcullis:cache:<zone>:}.
 *
 * <ul>
 *   <li>{@code {h}i:<base>} — the index of one URL (the primary key's base: everything before its first line feed,
 *       so the key extensions of one URL share it): a hash with {@code v:<primary key>} = the Vary of that key's
 *       latest object, and {@code o:<object hash>} = the primary key of each object stored;</li>
 *   <li>{@code {h}o:<object hash>} — one object (see {@link ObjectCodec}); the hash is SHA-256 of primary key and
 *       variant key (128 bits kept); the value names its keys, checked on load;</li>
 *   <li>{@code t:<tag>} — a sorted set of the object keys tagged so, scored by when they expire.</li>
 * </ul>
 *
 * {@code {h}} is a Redis Cluster hash tag (64 bits of SHA-256 of the base): a URL's index and objects live in one
 * slot, so one script can store or purge them together, while different URLs spread over the cluster. Prefix
 * purges find indexes with {@code SCAN MATCH} on the base, which is why the base is in the index's name as it is.
 */
final class SharedKeys {
    private final String prefix;

    SharedKeys(String zone) {
        this.prefix = "portcullis:cache:" + zone + ":";
    }

    /** Everything before the first line feed: the URL that purges by URL and key extensions share. */
    static String base(String primaryKey) {
        int nl = primaryKey.indexOf('\n');
        return nl < 0 ? primaryKey : primaryKey.substring(0, nl);
    }

    private String slot(String base) {
        return prefix + "{" + hex(sha256(base), 8) + "}";
    }

    String index(String primaryKey) {
        String base = base(primaryKey);
        return slot(base) + "i:" + base;
    }

    /** The prefix of the object keys that share {@code primaryKey}'s index (the scripts append an object hash). */
    String objectPrefix(String primaryKey) {
        return slot(base(primaryKey)) + "o:";
    }

    static String objectHash(String primaryKey, String variantKey) {
        return hex(sha256(primaryKey + "\u0000" + variantKey), 16);
    }

    String object(String primaryKey, String variantKey) {
        return objectPrefix(primaryKey) + objectHash(primaryKey, variantKey);
    }

    String tag(String tag) {
        return prefix + "t:" + tag;
    }

    /** A SCAN MATCH pattern for the indexes of every base starting with {@code basePrefix}. */
    String indexPattern(String basePrefix) {
        return prefix + "{*}i:" + globEscape(basePrefix) + "*";
    }

    /** Redis glob patterns treat {@code * ? [ ] \} specially. */
    static String globEscape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String hex(byte[] b, int bytes) {
        StringBuilder sb = new StringBuilder(bytes * 2);
        for (int i = 0; i < bytes; i++) {
            sb.append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append(Character.forDigit(b[i] & 0xF, 16));
        }
        return sb.toString();
    }
}
