package dev.portcullis.cache.shared;

import dev.portcullis.cache.policy.CacheControl;
import dev.portcullis.cache.policy.StoredMeta;
import dev.portcullis.cache.store.ResponseMeta;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;

/**
 * How long Redis keeps an object: as long as it can still be of use, so Redis does not fill with dead objects.
 *
 * <pre>
 * ttl = clamp(max(0, remaining freshness + stale window) + validator grace, FLOOR, CAP)
 * </pre>
 *
 * <ul>
 *   <li>remaining freshness: freshness lifetime minus current age (RFC 9111 §4.2), negative once stale;</li>
 *   <li>stale window: the response's own {@code stale-while-revalidate} / {@code stale-if-error}, the wider, when
 *       they apply (not with {@code must-revalidate} / {@code proxy-revalidate});</li>
 *   <li>validator grace ({@link #VALIDATOR_GRACE}): with an {@code ETag} or {@code Last-Modified} a stale object can
 *       still be revalidated, and a 304 costs the origin far less than the whole body;</li>
 *   <li>{@link #FLOOR}: so an object stored stale (to be revalidated) is there for the next request;
 *       {@link #CAP}: so a year-long {@code max-age} does not pin Redis memory for a year (another instance
 *       fetches it again after a day).</li>
 * </ul>
 */
final class SharedTtl {
    static final Duration FLOOR = Duration.ofMinutes(1);
    static final Duration CAP = Duration.ofDays(1);
    static final Duration VALIDATOR_GRACE = Duration.ofHours(1);

    private SharedTtl() {
    }

    /** Milliseconds, FLOOR..CAP. */
    static long millis(ResponseMeta meta, long now) {
        HttpHeaders headers = new DefaultHttpHeaders(false);
        meta.headers().addTo(headers);
        StoredMeta m = StoredMeta.of(meta.status(), headers, meta.requestTimeMillis(), meta.responseTimeMillis());
        long remaining = m.lifetime().millis() - m.currentAge(now);
        long window = 0;
        if (m.ownStaleWindowsApply()) {
            CacheControl cc = m.cacheControl();
            window = Math.max(Math.max(cc.staleWhileRevalidate(), cc.staleIfError()), 0) * 1000;
        }
        long usable = Math.max(0, saturatedAdd(remaining, window));
        long ttl = saturatedAdd(usable, m.hasValidator() ? VALIDATOR_GRACE.toMillis() : 0);
        return Math.max(FLOOR.toMillis(), Math.min(CAP.toMillis(), ttl));
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }
}
