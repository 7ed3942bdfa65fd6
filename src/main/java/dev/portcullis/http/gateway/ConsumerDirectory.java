package dev.portcullis.http.gateway;

import dev.portcullis.config.ConsumerConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The top-level {@code consumers}, compiled once per config: by name, and by API key. Keys are kept only as their
 * SHA-256 (a heap dump shows no key); a presented key is hashed and its hash looked up, then compared with
 * {@link MessageDigest#isEqual} (constant time), so neither the table nor the comparison tells a guesser how close a
 * wrong key came.
 */
public final class ConsumerDirectory {
    public static final ConsumerDirectory EMPTY = new ConsumerDirectory(List.of());

    private final Map<String, Consumer> byName = new HashMap<>();
    /** Hex of SHA-256(key) to the consumer and the hash itself (for the constant-time comparison). */
    private final Map<String, Keyed> byKeyHash = new HashMap<>();

    private record Keyed(byte[] hash, Consumer consumer) {}

    public ConsumerDirectory(List<ConsumerConfig> consumers) {
        for (ConsumerConfig c : consumers) {
            Consumer consumer = new Consumer(c.name(), Set.copyOf(c.groups()), c.rateLimit() == null ? null
                    : new LocalRateLimiter(c.rateLimit().limit(), c.rateLimit().per(), c.rateLimit().burst()));
            byName.put(c.name(), consumer);
            for (String key : c.apiKeys()) {
                byte[] h = sha256(key);
                byKeyHash.put(java.util.HexFormat.of().formatHex(h), new Keyed(h, consumer));
            }
        }
    }

    /** The consumer whose key this is, or null. */
    public Consumer byApiKey(String presented) {
        byte[] h = sha256(presented);
        Keyed k = byKeyHash.get(java.util.HexFormat.of().formatHex(h));
        return k != null && MessageDigest.isEqual(k.hash(), h) ? k.consumer() : null;
    }

    /** The consumer of that name, or null. */
    public Consumer byName(String name) {
        return byName.get(name);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
