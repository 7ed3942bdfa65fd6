package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * A client's own conditional request against the stored response the cache selected (RFC 9111 section 4.3.2,
 * RFC 9110 section 13.1 and the evaluation order of 13.2.2).
 *
 * <ul>
 * <li>{@code If-Match} and {@code If-Unmodified-Since} are not applicable to a cache (section 4.3.2): the request
 *     goes to the origin as it is ({@link Outcome#FORWARD}), so that the origin evaluates them;</li>
 * <li>{@code If-None-Match} (weak comparison, a list, or {@code *}) decides when present;</li>
 * <li>otherwise {@code If-Modified-Since} (GET and HEAD only; one valid HTTP-date) compares with the stored
 *     Last-Modified, else its Date (the time it was received when it had none);</li>
 * <li>preconditions are evaluated only against a stored 2xx (RFC 9110 section 13.2.1): a stored 404 answers as
 *     it is.</li>
 * </ul>
 * {@code If-Range} belongs to range handling ({@link Ranges}).
 */
public final class Conditionals {
    /** What to answer. */
    public enum Outcome {
        /** No applicable condition, or it passed: serve the stored response (200, or a range). */
        SERVE,
        /** Answer 304 with {@link #notModifiedHeaders}. */
        NOT_MODIFIED,
        /** Conditions a cache must not evaluate: send the request upstream unchanged, do not answer from cache. */
        FORWARD
    }

    /** The 304's header fields copied from the stored response (RFC 9110 section 15.4.5). */
    private static final List<CharSequence> NOT_MODIFIED_FIELDS = List.of(HttpHeaderNames.CACHE_CONTROL,
            HttpHeaderNames.CONTENT_LOCATION, HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.EXPIRES,
            HttpHeaderNames.VARY);

    private Conditionals() {
    }

    /** Whether the request carries conditions only an origin may evaluate ({@code If-Match}, {@code If-Unmodified-Since}). */
    public static boolean originOnly(HttpHeaders request) {
        return request.contains(HttpHeaderNames.IF_MATCH) || request.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE);
    }

    /**
     * @param method  the client's method
     * @param request the client's headers
     * @param stored  the selected stored response
     */
    public static Outcome evaluate(String method, HttpHeaders request, StoredMeta stored) {
        if (originOnly(request)) {
            return Outcome.FORWARD;
        }
        boolean getOrHead = "GET".equals(method) || "HEAD".equals(method);
        if (!getOrHead || stored.status() < 200 || stored.status() > 299) {
            return Outcome.SERVE;
        }
        if (request.contains(HttpHeaderNames.IF_NONE_MATCH)) {
            for (String line : request.getAll(HttpHeaderNames.IF_NONE_MATCH)) {
                if (EntityTags.listMatchesWeak(line, stored.etag())) {
                    return Outcome.NOT_MODIFIED;
                }
            }
            return Outcome.SERVE; // If-None-Match present: If-Modified-Since is ignored (13.1.3)
        }
        List<String> ims = request.getAll(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ims.size() == 1) {
            long since = HttpDates.parse(ims.get(0));
            long modified = stored.lastModified() != HttpDates.NONE ? stored.lastModified() : stored.date();
            if (since != HttpDates.NONE && modified <= since) {
                return Outcome.NOT_MODIFIED;
            }
        }
        return Outcome.SERVE;
    }

    /**
     * The 304's fields from the stored headers: Cache-Control, Content-Location, Date, ETag, Expires and Vary, and
     * Last-Modified when there is no ETag (useful to the client's cache then; 15.4.5 asks for no other
     * representation metadata). The caller adds Age and Cache-Status as on any cached answer.
     */
    public static HttpHeaders notModifiedHeaders(HttpHeaders stored) {
        HttpHeaders out = new DefaultHttpHeaders();
        for (CharSequence name : NOT_MODIFIED_FIELDS) {
            List<String> values = stored.getAll(name);
            if (!values.isEmpty()) {
                out.set(name, values);
            }
        }
        if (!stored.contains(HttpHeaderNames.ETAG) && stored.contains(HttpHeaderNames.LAST_MODIFIED)) {
            out.set(HttpHeaderNames.LAST_MODIFIED, stored.get(HttpHeaderNames.LAST_MODIFIED));
        }
        return out;
    }
}
