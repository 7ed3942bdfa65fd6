package dev.portcullis.config;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The top-level {@code redis} section: the one Redis (or Redis Cluster) that every instance of a deployment shares
 * state through (the cache's {@code shared} tier and purge broadcast; later rate limits and quotas). One client is
 * built from it per process and reused across reloads while this record is equal.
 *
 * @param urls    {@code redis://} or {@code rediss://} (TLS) URLs as written: one server, or the seed nodes of a
 *                cluster. They may carry a password: log {@link #redactedUrls()}, never these
 * @param cluster whether {@code cluster} was given (seed nodes of a Redis Cluster) rather than {@code url}
 * @param timeout how long one command may take before it counts as failed (the shared tier then acts as a miss)
 */
public record RedisConfig(List<String> urls, boolean cluster, Duration timeout) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);
    private static final Pattern USERINFO = Pattern.compile("(://)[^/?#@]*@");

    public RedisConfig {
        urls = List.copyOf(urls);
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("a redis config needs at least one URL");
        }
    }

    /** The URLs with any user and password replaced by {@code ***}: what logs and errors show. */
    public List<String> redactedUrls() {
        return urls.stream().map(RedisConfig::redact).toList();
    }

    /** {@code redis://user:secret@host} as {@code redis://***@host}. */
    public static String redact(String url) {
        return USERINFO.matcher(url).replaceFirst("$1***@");
    }

    /** Never the password: records print their components, and this one is logged. */
    @Override
    public String toString() {
        return "RedisConfig[" + (cluster ? "cluster " : "") + String.join(", ", redactedUrls()) + ", timeout "
                + timeout.toMillis() + "ms]";
    }
}
