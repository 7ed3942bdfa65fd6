package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Whether a selected stored response may answer a request (RFC 9111 section 4, 4.2.4, 5.2.1; RFC 5861).
 * Evaluated in this order; the first that applies decides:
 * <ol>
 * <li>{@code Authorization} in the request and the response lacks public / s-maxage / must-revalidate
 *     (section 3.5): forward unconditionally ({@code fwd=request; detail=authorization});</li>
 * <li>request {@code no-cache} (or {@code Pragma: no-cache}): validate ({@code fwd=request});</li>
 * <li>response {@code no-cache}: validate on every use ({@code fwd=stale; detail=no-cache});</li>
 * <li>fresh: serve, unless the request's {@code max-age} (age in whole seconds, as the Age sent) or
 *     {@code min-fresh} asks for more: then validate ({@code fwd=request});</li>
 * <li>stale within the request's {@code max-stale}, unless the response has must-revalidate, proxy-revalidate or
 *     s-maxage ({@link StoredMeta#staleForbidden}), and the request's max-age / min-fresh hold: serve stale;</li>
 * <li>stale within the response's own {@code stale-while-revalidate} window (honoured with s-maxage, not with
 *     must-/proxy-revalidate: {@link StoredMeta#ownStaleWindowsApply}) and the request sets no max-age /
 *     min-fresh: serve stale and refresh once in the background;</li>
 * <li>otherwise validate ({@code fwd=stale}; {@code detail=must-revalidate} when that forbade stale service,
 *     else {@code stale}).</li>
 * </ol>
 * With {@code only-if-cached}, anything but serving becomes a 504. {@code immutable} changes nothing here: a
 * shared cache already serves a fresh response without revalidation; it only tells browsers not to revalidate on
 * reload.
 */
public final class ServePolicy {
    private static final ServeDecision FRESH = new ServeDecision.Fresh();
    private static final ServeDecision MAX_STALE = new ServeDecision.Stale(false);
    private static final ServeDecision WHILE_REVALIDATE = new ServeDecision.Stale(true);
    // The decisions are values: shared instances keep a lookup free of allocation.
    private static final ServeDecision AUTHORIZATION = new ServeDecision.Forward(CacheStatus.Fwd.REQUEST,
            "authorization");
    private static final ServeDecision REQUEST_NO_CACHE = new ServeDecision.Validate(CacheStatus.Fwd.REQUEST,
            "request-no-cache");
    private static final ServeDecision NO_CACHE = new ServeDecision.Validate(CacheStatus.Fwd.STALE, "no-cache");
    private static final ServeDecision REQUEST_MAX_AGE = new ServeDecision.Validate(CacheStatus.Fwd.REQUEST,
            "request-max-age");
    private static final ServeDecision REQUEST_MIN_FRESH = new ServeDecision.Validate(CacheStatus.Fwd.REQUEST,
            "request-min-fresh");
    private static final ServeDecision MUST_REVALIDATE = new ServeDecision.Validate(CacheStatus.Fwd.STALE,
            "must-revalidate");
    private static final ServeDecision STALE = new ServeDecision.Validate(CacheStatus.Fwd.STALE, "stale");
    private static final ServeDecision ONLY_IF_CACHED = new ServeDecision.GatewayTimeout("only-if-cached");

    private ServePolicy() {
    }

    /**
     * @param requestCc the request's directives ({@link CacheControl#request})
     * @param request   the request's headers (Authorization)
     * @param stored    the selected stored response
     * @param now       epoch millis
     */
    public static ServeDecision decide(CacheControl requestCc, HttpHeaders request, StoredMeta stored, long now) {
        ServeDecision d = decideIgnoringOnlyIfCached(requestCc, request, stored, now);
        if (requestCc.onlyIfCached() && !d.hit()) {
            return ONLY_IF_CACHED;
        }
        return d;
    }

    /** No stored response (or none whose Vary matches): forward, or 504 under {@code only-if-cached}. */
    public static ServeDecision miss(CacheControl requestCc, CacheStatus.Fwd why) {
        if (requestCc.onlyIfCached()) {
            return ONLY_IF_CACHED;
        }
        return new ServeDecision.Forward(why, why.token());
    }

    private static ServeDecision decideIgnoringOnlyIfCached(CacheControl req, HttpHeaders request, StoredMeta stored,
                                                           long now) {
        if (request.contains(HttpHeaderNames.AUTHORIZATION) && !stored.servesAuthorized()) {
            return AUTHORIZATION;
        }
        if (req.noCache()) {
            return REQUEST_NO_CACHE;
        }
        CacheControl res = stored.cacheControl();
        if (res.noCache()) {
            return NO_CACHE;
        }
        long age = stored.currentAge(now);
        long ageSeconds = Freshness.ageHeaderSeconds(age);
        long lifetime = stored.lifetime().millis();
        boolean maxAgeOk = req.maxAge() == CacheControl.ABSENT || ageSeconds <= req.maxAge();
        if (lifetime > age) {
            if (!maxAgeOk) {
                return REQUEST_MAX_AGE;
            }
            if (req.minFresh() != CacheControl.ABSENT && lifetime - age < req.minFresh() * 1000) {
                return REQUEST_MIN_FRESH;
            }
            return FRESH;
        }
        long staleness = age - lifetime;
        boolean clientLimits = req.maxAge() != CacheControl.ABSENT || req.minFresh() != CacheControl.ABSENT;
        long maxStale = req.maxStale();
        if (maxStale != CacheControl.ABSENT && !stored.staleForbidden() && maxAgeOk
                && req.minFresh() == CacheControl.ABSENT
                && (maxStale == CacheControl.ANY || staleness <= maxStale * 1000)) {
            return MAX_STALE;
        }
        long swr = res.staleWhileRevalidate();
        if (swr != CacheControl.ABSENT && stored.ownStaleWindowsApply() && !clientLimits
                && staleness <= swr * 1000) {
            return WHILE_REVALIDATE;
        }
        if (!stored.ownStaleWindowsApply()) {
            return MUST_REVALIDATE;
        }
        return STALE;
    }

    /**
     * RFC 5861 section 4: after a {@link ServeDecision.Validate} whose upstream request failed (connect failure,
     * timeout, reset) or answered an {@link #isError error status}, may the stored response answer instead? Only
     * within a {@code stale-if-error} window counted in seconds of staleness: the response's own (not with
     * must-revalidate / proxy-revalidate) or the request's (not with those nor s-maxage), the wider one; never
     * with a response {@code no-cache}.
     */
    public static boolean staleIfError(CacheControl requestCc, StoredMeta stored, long now) {
        CacheControl res = stored.cacheControl();
        if (res.noCache() || !stored.ownStaleWindowsApply()) {
            return false;
        }
        long window = res.staleIfError();
        if (!stored.staleForbidden()) {
            window = Math.max(window, requestCc.staleIfError());
        }
        return window != CacheControl.ABSENT && stored.staleness(now) <= window * 1000;
    }

    /** The upstream statuses RFC 5861 counts as errors: 500, 502, 503, 504. */
    public static boolean isError(int status) {
        return status == 500 || status == 502 || status == 503 || status == 504;
    }
}
