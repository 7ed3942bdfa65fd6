package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheKeys;
import dev.portcullis.cache.store.CacheZone;

/**
 * A route's {@code cache}, compiled: the zone it stores in (shared by every route that names it, and kept across
 * reloads while its config is unchanged) and its key builder.
 *
 * @param followWaitNanos how long a request waits for another's fetch of the same object (collapsed forwarding)
 *                        before it goes upstream itself: the route's timeout, at most 10 s
 */
public record RouteCache(CacheZone zone, CacheKeys keys, long followWaitNanos) {
    public static final long MAX_FOLLOW_WAIT_NANOS = 10_000_000_000L;

    public static RouteCache of(CacheZone zone, CacheKeys keys, long routeTimeoutNanos) {
        long wait = routeTimeoutNanos > 0 ? Math.min(routeTimeoutNanos, MAX_FOLLOW_WAIT_NANOS) : MAX_FOLLOW_WAIT_NANOS;
        return new RouteCache(zone, keys, wait);
    }
}
