package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * What the policy needs to know about one stored response, computed once when it is stored (or freshened by a 304)
 * so that a hit does no header parsing: the parsed response directives, the freshness lifetime, the corrected
 * initial age with the response time it counts from, the validators and the Vary field names.
 *
 * @param status                 the stored status
 * @param cacheControl           the response's directives
 * @param lifetime               freshness lifetime and where it came from
 * @param correctedInitialAge    millis, RFC 9111 section 4.2.3
 * @param responseTime           epoch millis when the response (head) was received
 * @param date                   the Date used (the response's own, else {@code responseTime})
 * @param etag                   the ETag field value as received, or null
 * @param lastModified           epoch millis, or {@link HttpDates#NONE}
 * @param vary                   the Vary field names, lower case ({@link VaryKey#names}); never {@code *}
 */
public record StoredMeta(int status, CacheControl cacheControl, Freshness.Lifetime lifetime, long correctedInitialAge,
                         long responseTime, long date, String etag, long lastModified, List<String> vary) {

    /** Everything from the response head and the exchange's two times ({@code requestTime <= responseTime}). */
    public static StoredMeta of(int status, HttpHeaders headers, long requestTime, long responseTime) {
        return of(status, CacheControl.response(headers), headers, requestTime, responseTime);
    }

    static StoredMeta of(int status, CacheControl cc, HttpHeaders headers, long requestTime, long responseTime) {
        long date = Freshness.date(headers, responseTime);
        Freshness.Lifetime lifetime = Freshness.lifetime(status, cc, headers, date);
        long initialAge = Freshness.correctedInitialAge(Freshness.ageValue(headers), date, requestTime, responseTime);
        String etag = headers.get(HttpHeaderNames.ETAG);
        long lastModified = HttpDates.single(headers, HttpHeaderNames.LAST_MODIFIED);
        return new StoredMeta(status, cc, lifetime, initialAge, responseTime, date, etag, lastModified,
                VaryKey.names(headers));
    }

    /** Millis, section 4.2.3. */
    public long currentAge(long now) {
        return Freshness.currentAge(correctedInitialAge, responseTime, now);
    }

    /** The {@code Age} header value to send at {@code now}. */
    public long ageSeconds(long now) {
        return Freshness.ageHeaderSeconds(currentAge(now));
    }

    /** {@code freshness_lifetime > current_age} (section 4.2). */
    public boolean isFresh(long now) {
        return lifetime.millis() > currentAge(now);
    }

    /** Millis the response has been stale at {@code now}; 0 while fresh. */
    public long staleness(long now) {
        return Math.max(0, currentAge(now) - lifetime.millis());
    }

    /** Remaining freshness in whole seconds (negative once stale), for {@code Cache-Status: ttl}. */
    public long ttlSeconds(long now) {
        return Math.floorDiv(lifetime.millis() - currentAge(now), 1000);
    }

    /** An ETag or a Last-Modified the cache can validate with (section 4.3.1). */
    public boolean hasValidator() {
        return etag != null || lastModified != HttpDates.NONE;
    }

    /**
     * Whether this response may answer a request carrying {@code Authorization} (RFC 9111 section 3.5):
     * only with {@code public}, {@code s-maxage} or {@code must-revalidate}.
     */
    public boolean servesAuthorized() {
        return cacheControl.isPublic() || cacheControl.sMaxAge() != CacheControl.ABSENT
                || cacheControl.mustRevalidate();
    }

    /**
     * Whether the response may never be served stale on the client's say-so ({@code max-stale}, a request's
     * {@code stale-if-error}): {@code must-revalidate}, {@code proxy-revalidate}, or {@code s-maxage}, which implies
     * proxy-revalidate in a shared cache (section 5.2.2.10).
     */
    public boolean staleForbidden() {
        CacheControl cc = cacheControl;
        return cc.mustRevalidate() || cc.proxyRevalidate() || cc.sMaxAge() != CacheControl.ABSENT;
    }

    /**
     * Whether the response's OWN {@code stale-while-revalidate} / {@code stale-if-error} windows apply: always but
     * with {@code must-revalidate} or {@code proxy-revalidate}. With {@code s-maxage} they do: the origin's explicit
     * window is more specific than the proxy-revalidate that s-maxage implies (the common CDN idiom
     * {@code s-maxage=60, stale-while-revalidate=30}).
     */
    public boolean ownStaleWindowsApply() {
        return !cacheControl.mustRevalidate() && !cacheControl.proxyRevalidate();
    }
}
