package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheKeys;
import dev.portcullis.cache.policy.Invalidation;
import dev.portcullis.cache.store.CacheZone;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A route's {@code cache}, compiled: the zone it stores in (shared by every route that names it, and kept across
 * reloads while its config is unchanged) and its key builder.
 *
 * @param followWaitNanos how long a request waits for another's fetch of the same object (collapsed forwarding)
 *                        before it goes upstream itself: the route's timeout, at most 10 s
 */
public record RouteCache(CacheZone zone, CacheKeys keys, long followWaitNanos) {
    public static final long MAX_FOLLOW_WAIT_NANOS = 10_000_000_000L;

    /**
     * After an unsafe method (POST, PUT, DELETE, PATCH, unknown ones) answered 2xx or 3xx: the stored responses of
     * its target, and of the same-origin {@code Location} and {@code Content-Location}, are dropped (RFC 9111
     * section 4.4), with every variant and every key extension (header and cookie lines) of each.
     *
     * @return how many stored responses were removed
     */
    public int invalidateAfter(String method, int status, String scheme, String host, String uri,
                               HttpHeaders response) {
        int removed = 0;
        for (String base : Invalidation.targets(method, status, scheme, host, uri, response, keys)) {
            removed += zone.purgeKey(base) + zone.purgePrefix(base + "\n");
        }
        return removed;
    }

    public static RouteCache of(CacheZone zone, CacheKeys keys, long routeTimeoutNanos) {
        long wait = routeTimeoutNanos > 0 ? Math.min(routeTimeoutNanos, MAX_FOLLOW_WAIT_NANOS) : MAX_FOLLOW_WAIT_NANOS;
        return new RouteCache(zone, keys, wait);
    }
}
