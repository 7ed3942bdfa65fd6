package dev.portcullis.runtime;

import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.redis.RedisClients;
import dev.portcullis.upstream.Upstream;
import java.util.Map;

/**
 * One loaded config, compiled: listeners with their route tables, and the upstream registry. Immutable; a
 * reload builds a new one and swaps it in, while requests in flight keep the objects they started with.
 *
 * @param caches the cache zones by name; a zone whose config did not change is the previous snapshot's own
 * @param redis  the client of the config's {@code redis}, or null (none, or compiled only to validate); the
 *               previous snapshot's own while {@code redis} did not change
 */
public record Snapshot(PortcullisConfig config, Map<String, ListenerRuntime> listeners,
                       Map<String, Upstream> upstreams, Map<String, CacheZone> caches, RedisClients redis) {
    /** Closes the zones (and the Redis client) of this snapshot that {@code other} does not use (null: all). */
    public void closeZonesNotIn(Snapshot other) {
        caches.forEach((name, zone) -> {
            if (other == null || other.caches().get(name) != zone) {
                zone.close();
            }
        });
        if (redis != null && (other == null || other.redis() != redis)) {
            redis.close(); // after the zones: their shared tiers use it
        }
    }
}
