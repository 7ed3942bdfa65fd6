package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;
import java.util.List;

/**
 * The directives of one message's {@code Cache-Control} field lines (RFC 9111 section 5.2), request or response.
 *
 * <p>Parsing follows the grammar {@code #( token [ "=" ( token / quoted-string ) ] )}: names case-insensitive,
 * arguments in token or quoted form alike ({@code max-age=5} equals {@code max-age="5"}), commas inside quotes do not
 * split, unknown directives are skipped, all field lines are read as one list. Where a directive is repeated,
 * invalid or malformed, the most restrictive reading wins (section 4.2.1):
 * <ul>
 * <li>{@code max-age} / {@code s-maxage}: an invalid delta-seconds counts as {@code 0}; in a response two different
 *     values count as {@code 0} (the response is stale), in a request the smallest wins;</li>
 * <li>{@code max-stale}, {@code stale-while-revalidate}, {@code stale-if-error} (they widen what may be served):
 *     an invalid value is ignored, the smallest of several wins; {@code min-fresh}: invalid ignored, largest wins;</li>
 * <li>{@code no-cache} / {@code private}: the unqualified form beats any field-name list; lists accumulate.</li>
 * </ul>
 * A delta-seconds larger than 2^31 is read as 2^31 (section 1.2.2). One object per message that has the field, none
 * for messages without it ({@link #EMPTY}); numbers are read in place, without substrings.
 */
public final class CacheControl {
    /** An absent numeric directive. */
    public static final long ABSENT = -1;
    /** The largest delta-seconds we represent (RFC 9111 section 1.2.2). */
    public static final long MAX_DELTA = 2147483648L;
    /** {@code max-stale} without a value: any staleness. */
    public static final long ANY = Long.MAX_VALUE;
    /** No directive at all (no field, or only unknown directives). */
    public static final CacheControl EMPTY = new CacheControl(false);

    final boolean request;
    boolean noStore;
    boolean noCache;
    List<String> noCacheFields = List.of();
    boolean isPrivate;
    List<String> privateFields = List.of();
    boolean isPublic;
    boolean mustRevalidate;
    boolean proxyRevalidate;
    boolean mustUnderstand;
    boolean noTransform;
    boolean immutable;
    boolean onlyIfCached;
    long maxAge = ABSENT;
    long sMaxAge = ABSENT;
    long maxStale = ABSENT;
    long minFresh = ABSENT;
    long staleWhileRevalidate = ABSENT;
    long staleIfError = ABSENT;

    CacheControl(boolean request) {
        this.request = request;
    }

    /** The response's directives ({@code Pragma} is not read on responses: section 5.4). */
    public static CacheControl response(HttpHeaders headers) {
        return parse(headers, false);
    }

    /**
     * The request's directives; without any {@code Cache-Control} line, {@code Pragma: no-cache} reads as
     * {@code Cache-Control: no-cache} (section 5.4).
     */
    public static CacheControl request(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            return CacheControlParser.pragmaNoCache(headers) ? PRAGMA_NO_CACHE : EMPTY;
        }
        return parse(headers, true);
    }

    private static final CacheControl PRAGMA_NO_CACHE = new CacheControl(true);

    static {
        PRAGMA_NO_CACHE.noCache = true;
    }

    /** Parses field line values directly (tests, and callers holding the values already). */
    public static CacheControl parse(Iterable<? extends CharSequence> lines, boolean request) {
        CacheControl cc = null;
        for (CharSequence line : lines) {
            cc = CacheControlParser.parseLine(cc, line, request);
        }
        return cc == null ? EMPTY : cc;
    }

    private static CacheControl parse(HttpHeaders headers, boolean request) {
        CacheControl cc = null;
        Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(HttpHeaderNames.CACHE_CONTROL);
        while (it.hasNext()) {
            cc = CacheControlParser.parseLine(cc, it.next(), request);
        }
        return cc == null ? EMPTY : cc;
    }

    // ---- accessors ----

    /** {@code no-store} (request or response). */
    public boolean noStore() {
        return noStore;
    }

    /** Unqualified {@code no-cache} (request, or response without field names), or request {@code Pragma: no-cache}. */
    public boolean noCache() {
        return noCache;
    }

    /** Response {@code no-cache="a, b"} field names, lower case; empty when none or when unqualified. */
    public List<String> noCacheFields() {
        return noCache ? List.of() : noCacheFields;
    }

    /** Unqualified {@code private}. */
    public boolean isPrivate() {
        return isPrivate;
    }

    /** {@code private="a, b"} field names, lower case; empty when none or when unqualified. */
    public List<String> privateFields() {
        return isPrivate ? List.of() : privateFields;
    }

    public boolean isPublic() {
        return isPublic;
    }

    public boolean mustRevalidate() {
        return mustRevalidate;
    }

    public boolean proxyRevalidate() {
        return proxyRevalidate;
    }

    public boolean mustUnderstand() {
        return mustUnderstand;
    }

    public boolean noTransform() {
        return noTransform;
    }

    /** RFC 8246 {@code immutable}: parsed and reported; a shared cache draws nothing from it beyond freshness. */
    public boolean immutable() {
        return immutable;
    }

    public boolean onlyIfCached() {
        return onlyIfCached;
    }

    /** Seconds, or {@link #ABSENT}; 0 when invalid (or, in a response, conflicting). */
    public long maxAge() {
        return maxAge;
    }

    /** Seconds, or {@link #ABSENT}; 0 when invalid or conflicting. */
    public long sMaxAge() {
        return sMaxAge;
    }

    /** Seconds, {@link #ANY} without a value, or {@link #ABSENT}. */
    public long maxStale() {
        return maxStale;
    }

    /** Seconds, or {@link #ABSENT}. */
    public long minFresh() {
        return minFresh;
    }

    /** RFC 5861 seconds, or {@link #ABSENT}. */
    public long staleWhileRevalidate() {
        return staleWhileRevalidate;
    }

    /** RFC 5861 seconds (request or response), or {@link #ABSENT}. */
    public long staleIfError() {
        return staleIfError;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(request ? "request[" : "response[");
        flag(sb, noStore, "no-store");
        flag(sb, noCache, "no-cache");
        flag(sb, !noCacheFields().isEmpty(), "no-cache=" + noCacheFields);
        flag(sb, isPrivate, "private");
        flag(sb, !privateFields().isEmpty(), "private=" + privateFields);
        flag(sb, isPublic, "public");
        flag(sb, mustRevalidate, "must-revalidate");
        flag(sb, proxyRevalidate, "proxy-revalidate");
        flag(sb, mustUnderstand, "must-understand");
        flag(sb, noTransform, "no-transform");
        flag(sb, immutable, "immutable");
        flag(sb, onlyIfCached, "only-if-cached");
        flag(sb, maxAge != ABSENT, "max-age=" + maxAge);
        flag(sb, sMaxAge != ABSENT, "s-maxage=" + sMaxAge);
        flag(sb, maxStale != ABSENT, maxStale == ANY ? "max-stale" : "max-stale=" + maxStale);
        flag(sb, minFresh != ABSENT, "min-fresh=" + minFresh);
        flag(sb, staleWhileRevalidate != ABSENT, "stale-while-revalidate=" + staleWhileRevalidate);
        flag(sb, staleIfError != ABSENT, "stale-if-error=" + staleIfError);
        return sb.append(']').toString();
    }

    private static void flag(StringBuilder sb, boolean on, String text) {
        if (on) {
            if (sb.charAt(sb.length() - 1) != '[') {
                sb.append(", ");
            }
            sb.append(text);
        }
    }
}
