package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Revalidating a stored response with the origin (RFC 9111 section 4.3): the conditional request's fields
 * (section 4.3.1) and what a 304 does to the stored response (sections 3.2, 4.3.3, 4.3.4).
 */
public final class Validation {
    /** Client conditions and ranges that must not reach the origin on the cache's own revalidation. */
    private static final List<CharSequence> CLIENT_CONDITIONS = List.of(HttpHeaderNames.IF_NONE_MATCH,
            HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.IF_MATCH, HttpHeaderNames.IF_UNMODIFIED_SINCE,
            HttpHeaderNames.IF_RANGE, HttpHeaderNames.RANGE);

    /**
     * Fields a 304 never changes in the stored copy: framing and coding of the stored body (Content-Length,
     * Content-Encoding, Transfer-Encoding, Content-Range: section 3.2 and the "stored response depends upon" rule),
     * and everything {@link Storability} leaves out of stored copies.
     */
    private static final Set<String> NOT_UPDATED = Set.of("content-length", "content-encoding",
            "transfer-encoding", "content-range", "connection", "proxy-connection", "keep-alive", "te", "upgrade",
            "proxy-authenticate", "proxy-authentication-info", "proxy-authorization", "set-cookie");

    private Validation() {
    }

    /**
     * Makes {@code upstream} (a copy of the client's request headers) the cache's conditional request for
     * {@code stored}: the client's own If-* and Range fields are removed (the cache validates a complete stored
     * response, and answers the client's conditions itself afterwards), then {@code If-None-Match} carries the
     * stored ETag and {@code If-Modified-Since} the stored Last-Modified, both as received (origins often compare
     * these as strings).
     *
     * @return whether any validator was set; without one, the request is a plain refetch
     */
    public static boolean conditionalRequest(HttpHeaders stored, HttpHeaders upstream) {
        removeClientConditions(upstream);
        boolean any = false;
        String etag = stored.get(HttpHeaderNames.ETAG);
        if (etag != null) {
            upstream.set(HttpHeaderNames.IF_NONE_MATCH, etag);
            any = true;
        }
        String lastModified = stored.get(HttpHeaderNames.LAST_MODIFIED);
        if (lastModified != null && HttpDates.parse(lastModified) != HttpDates.NONE) {
            upstream.set(HttpHeaderNames.IF_MODIFIED_SINCE, lastModified);
            any = true;
        }
        return any;
    }

    /**
     * The client's own If-* and Range fields out of a request the cache sends to fill or revalidate an entry: the
     * cache fetches the complete response, and answers the client's conditions and range itself afterwards.
     */
    public static void removeClientConditions(HttpHeaders upstream) {
        for (CharSequence name : CLIENT_CONDITIONS) {
            upstream.remove(name);
        }
    }

    /** The result of a 304 for a stored response. */
    public sealed interface Freshening {
    }

    /**
     * The 304 selected the stored response: {@code headers} are its freshened fields; {@code decision} says whether
     * it is still storable (with its new {@link StoredMeta}) or, when the 304 forbids it (for example no-store),
     * must be dropped after answering this request from it.
     */
    public record Freshened(HttpHeaders headers, StoreDecision decision) implements Freshening {
    }

    /**
     * The 304 names a different representation (its validator does not match the stored one, section 4.3.4):
     * the stored response must not be used; fetch again without conditions.
     */
    public record Mismatch(String reason) implements Freshening {
    }

    /**
     * Applies a 304 to a stored response.
     *
     * @param request      the headers of the request that was revalidated (for {@link Storability}: Authorization,
     *                     request no-store)
     * @param stored       the stored response's headers (not modified; a new object is returned)
     * @param storedStatus the stored response's status
     * @param notModified  the 304's headers
     * @param requestTime  when the conditional request went upstream
     * @param responseTime when the 304 arrived
     */
    public static Freshening on304(HttpHeaders request, HttpHeaders stored, int storedStatus, HttpHeaders notModified,
                                   long requestTime, long responseTime) {
        String newTag = notModified.get(HttpHeaderNames.ETAG);
        String oldTag = stored.get(HttpHeaderNames.ETAG);
        if (newTag != null) {
            boolean same = EntityTags.isWeak(newTag) ? EntityTags.weakEquals(newTag, oldTag)
                    : EntityTags.strongEquals(newTag, oldTag);
            if (!same) {
                return new Mismatch("etag-mismatch");
            }
        } else if (notModified.contains(HttpHeaderNames.LAST_MODIFIED)) {
            long newModified = HttpDates.single(notModified, HttpHeaderNames.LAST_MODIFIED);
            long oldModified = HttpDates.single(stored, HttpHeaderNames.LAST_MODIFIED);
            if (oldModified != HttpDates.NONE && newModified != oldModified) {
                return new Mismatch("last-modified-mismatch");
            }
        }
        HttpHeaders merged = new DefaultHttpHeaders().set(stored);
        CacheControl newCc = CacheControl.response(notModified);
        List<String> connectionListed = Storability.stripFields(CacheControl.EMPTY, notModified);
        for (String name : notModified.names()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (NOT_UPDATED.contains(lower) || connectionListed.contains(lower)
                    || newCc.privateFields().contains(lower) || newCc.noCacheFields().contains(lower)) {
                continue;
            }
            merged.set(name, notModified.getAll(name)); // all stored lines of the field replaced (section 3.2)
        }
        // The stored Age described the old response; a 304 without Age means age 0 at the origin.
        if (!notModified.contains(HttpHeaderNames.AGE)) {
            merged.remove(HttpHeaderNames.AGE);
        }
        // A recipient with a clock adds Date when the response has none (RFC 9110 section 6.6.1).
        if (HttpDates.single(notModified, HttpHeaderNames.DATE) == HttpDates.NONE) {
            merged.set(HttpHeaderNames.DATE, HttpDates.format(responseTime));
        }
        StoreDecision decision = Storability.decide("GET", request, storedStatus, merged, requestTime, responseTime);
        return new Freshened(merged, decision);
    }
}
