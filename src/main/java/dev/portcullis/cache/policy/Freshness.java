package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Freshness lifetime (RFC 9111 section 4.2.1, 4.2.2) and age (section 4.2.3) of a response, for a SHARED cache.
 * Pure arithmetic on values the caller passes in; the clock is never read here.
 */
public final class Freshness {
    /** Heuristic freshness is 10% of the time since Last-Modified ... */
    static final int HEURISTIC_PERCENT = 10;
    /** ... and never more than a day (as Squid's refresh_pattern default max and the RFC's own example). */
    public static final long HEURISTIC_CAP_MILLIS = 24L * 3600 * 1000;
    private static final long MAX_DELTA_MILLIS = CacheControl.MAX_DELTA * 1000;

    private Freshness() {
    }

    /** Where a lifetime came from; {@code NONE} means the response is stale from the start. */
    public enum Source { S_MAXAGE, MAX_AGE, EXPIRES, HEURISTIC, NONE }

    /** A freshness lifetime in milliseconds and its source. */
    public record Lifetime(long millis, Source source) {
        public static final Lifetime NONE = new Lifetime(0, Source.NONE);

        /** True for s-maxage, max-age and Expires: heuristics must not be used (section 4.2.2). */
        public boolean explicit() {
            return source == Source.S_MAXAGE || source == Source.MAX_AGE || source == Source.EXPIRES;
        }
    }

    /**
     * The lifetime: {@code s-maxage}, else {@code max-age}, else {@code Expires - Date} (an invalid or conflicting
     * Expires, {@code 0} included, means already expired: section 5.3), else a heuristic for a heuristically cacheable
     * status or a {@code public} response with a {@code Last-Modified} earlier than {@code Date}: 10% of the
     * interval, capped at one day; else none.
     *
     * @param date the response's Date as epoch millis (the response time when it had none; see {@link #date})
     */
    public static Lifetime lifetime(int status, CacheControl cc, HttpHeaders headers, long date) {
        if (cc.sMaxAge() != CacheControl.ABSENT) {
            return new Lifetime(cc.sMaxAge() * 1000, Source.S_MAXAGE);
        }
        if (cc.maxAge() != CacheControl.ABSENT) {
            return new Lifetime(cc.maxAge() * 1000, Source.MAX_AGE);
        }
        if (headers.contains(HttpHeaderNames.EXPIRES)) {
            long expires = HttpDates.single(headers, HttpHeaderNames.EXPIRES);
            long millis = expires == HttpDates.NONE ? 0 : Math.max(0, Math.min(expires - date, MAX_DELTA_MILLIS));
            return new Lifetime(millis, Source.EXPIRES);
        }
        if (Storability.heuristicallyCacheable(status) || cc.isPublic()) {
            long lastModified = HttpDates.single(headers, HttpHeaderNames.LAST_MODIFIED);
            if (lastModified != HttpDates.NONE && lastModified < date) {
                long millis = Math.min((date - lastModified) * HEURISTIC_PERCENT / 100, HEURISTIC_CAP_MILLIS);
                return new Lifetime(millis, Source.HEURISTIC);
            }
        }
        return Lifetime.NONE;
    }

    /**
     * The Date to compute with: the response's own, or {@code responseTime} when it has none or an invalid one
     * (RFC 9110 section 6.6.1: a recipient with a clock adds the time it received the response).
     */
    public static long date(HttpHeaders headers, long responseTime) {
        long date = HttpDates.single(headers, HttpHeaderNames.DATE);
        return date == HttpDates.NONE ? responseTime : date;
    }

    /**
     * The {@code Age} field in seconds: the first member of a list, 0 when absent or invalid (section 5.1: a cache
     * ignores an invalid Age), at most 2^31.
     */
    public static long ageValue(HttpHeaders headers) {
        String v = headers.get(HttpHeaderNames.AGE);
        if (v == null) {
            return 0;
        }
        int n = v.length();
        int from = Syntax.skipOws(v, 0, n);
        int to = from;
        while (to < n && v.charAt(to) != ',') {
            to++;
        }
        to = Syntax.trimOws(v, from, to);
        if (to == from) {
            return 0;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            if (value < CacheControl.MAX_DELTA) {
                value = value * 10 + (c - '0');
            }
        }
        return Math.min(value, CacheControl.MAX_DELTA);
    }

    /**
     * {@code corrected_initial_age} of section 4.2.3, in millis:
     * {@code max(max(0, response_time - date), age_value + (response_time - request_time))}.
     */
    public static long correctedInitialAge(long ageValueSeconds, long date, long requestTime, long responseTime) {
        long apparentAge = Math.max(0, responseTime - date);
        long responseDelay = Math.max(0, responseTime - requestTime);
        long correctedAgeValue = ageValueSeconds * 1000 + responseDelay;
        return Math.max(apparentAge, correctedAgeValue);
    }

    /** {@code current_age = corrected_initial_age + (now - response_time)}, in millis, never negative. */
    public static long currentAge(long correctedInitialAge, long responseTime, long now) {
        return Math.max(0, correctedInitialAge + Math.max(0, now - responseTime));
    }

    /** The {@code Age} value to send: whole seconds (rounded down), at most 2^31 (section 1.2.2 / 5.1). */
    public static long ageHeaderSeconds(long currentAgeMillis) {
        return Math.min(currentAgeMillis / 1000, CacheControl.MAX_DELTA);
    }
}
