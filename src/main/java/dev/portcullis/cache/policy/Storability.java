package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Whether a shared cache may store a response (RFC 9111 section 3, 3.5), and what to leave out of the stored copy.
 * The first rule that refuses gives the reason:
 * <ol>
 * <li>{@code method}: only GET responses are stored (a HEAD is answered from a stored GET by the caller);</li>
 * <li>{@code status}: not a final status (1xx) or outside 200..599; {@code partial-content}: a 206 (we store
 *     complete responses only); {@code not-modified}: a 304 freshens a stored response, it is never stored;</li>
 * <li>{@code must-understand}: with that directive, a status we do not implement; with it and a status we do,
 *     {@code no-store} is ignored (section 5.2.2.3);</li>
 * <li>{@code no-store} (response), {@code request-no-store}, {@code private} (unqualified);</li>
 * <li>{@code authorization}: the request had Authorization and the response lacks public, s-maxage and
 *     must-revalidate;</li>
 * <li>{@code vary-star}: {@code Vary: *} can never match a later request;</li>
 * <li>{@code content-range}: a partial body in a 200;</li>
 * <li>{@code set-cookie}: nginx's and Varnish's practice rather than the RFC's: a response that sets a cookie is
 *     not stored unless the origin says it is shared ({@code public} or {@code s-maxage}) or names Set-Cookie in
 *     {@code private="..."} / {@code no-cache="..."}; when stored, Set-Cookie is always left out of the stored copy
 *     so one client's cookie is never replayed to another;</li>
 * <li>{@code no-freshness}: none of max-age, s-maxage, Expires, public, nor a heuristically cacheable status;</li>
 * <li>{@code stale-no-validator}: it would be stale (or no-cache) from the start, has neither ETag nor
 *     Last-Modified to revalidate with and no stale-while-revalidate / stale-if-error window: storing it could
 *     never save a byte.</li>
 * </ol>
 */
public final class Storability {
    /** RFC 9111 section 3.1 fields a cache does not store, and Set-Cookie (our choice; see above). */
    static final List<String> NEVER_STORED = List.of("connection", "proxy-connection", "keep-alive", "te",
            "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authentication-info", "proxy-authorization",
            "set-cookie");

    private Storability() {
    }

    /** Statuses cacheable by default (RFC 9110 section 15.1): heuristic freshness applies to them. */
    public static boolean heuristicallyCacheable(int status) {
        return switch (status) {
            case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501 -> true;
            default -> false;
        };
    }

    /** Statuses whose semantics we implement, for {@code must-understand} (section 5.2.2.3). */
    static boolean understood(int status) {
        return switch (status) {
            case 200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501 -> true;
            default -> false;
        };
    }

    /** The decision with the request's directives parsed here. */
    public static StoreDecision decide(String method, HttpHeaders request, int status, HttpHeaders response,
                                       long requestTime, long responseTime) {
        return decide(method, request, CacheControl.request(request), status, response, requestTime, responseTime);
    }

    /**
     * @param method       the request method (as sent; compared case-sensitively, as methods are)
     * @param request      the request headers (Authorization)
     * @param requestCc    the request's directives (no-store)
     * @param requestTime  epoch millis when the request went upstream
     * @param responseTime epoch millis when the response head arrived
     */
    public static StoreDecision decide(String method, HttpHeaders request, CacheControl requestCc, int status,
                                       HttpHeaders response, long requestTime, long responseTime) {
        if (!"GET".equals(method)) {
            return new StoreDecision.DontStore("method");
        }
        if (status < 200 || status > 599) {
            return new StoreDecision.DontStore("status");
        }
        if (status == 206) {
            return new StoreDecision.DontStore("partial-content");
        }
        if (status == 304) {
            return new StoreDecision.DontStore("not-modified");
        }
        CacheControl cc = CacheControl.response(response);
        if (cc.mustUnderstand() && !understood(status)) {
            return new StoreDecision.DontStore("must-understand");
        }
        if (cc.noStore() && !cc.mustUnderstand()) {
            return new StoreDecision.DontStore("no-store");
        }
        if (requestCc.noStore()) {
            return new StoreDecision.DontStore("request-no-store");
        }
        if (cc.isPrivate()) {
            return new StoreDecision.DontStore("private");
        }
        boolean shared = cc.isPublic() || cc.sMaxAge() != CacheControl.ABSENT;
        if (request.contains(HttpHeaderNames.AUTHORIZATION) && !shared && !cc.mustRevalidate()) {
            return new StoreDecision.DontStore("authorization");
        }
        List<String> vary = VaryKey.names(response);
        if (VaryKey.isStar(vary)) {
            return new StoreDecision.DontStore("vary-star");
        }
        if (response.contains(HttpHeaderNames.CONTENT_RANGE)) {
            return new StoreDecision.DontStore("content-range");
        }
        if (response.contains(HttpHeaderNames.SET_COOKIE) && !shared
                && !cc.privateFields().contains("set-cookie") && !cc.noCacheFields().contains("set-cookie")) {
            return new StoreDecision.DontStore("set-cookie");
        }
        boolean explicit = cc.maxAge() != CacheControl.ABSENT || cc.sMaxAge() != CacheControl.ABSENT
                || response.contains(HttpHeaderNames.EXPIRES);
        if (!explicit && !cc.isPublic() && !heuristicallyCacheable(status)) {
            return new StoreDecision.DontStore("no-freshness");
        }
        StoredMeta meta = StoredMeta.of(status, cc, response, requestTime, responseTime);
        boolean neverServable = cc.noCache() || meta.lifetime().millis() <= meta.correctedInitialAge();
        if (neverServable && !meta.hasValidator() && (cc.noCache()
                || cc.staleWhileRevalidate() == CacheControl.ABSENT && cc.staleIfError() == CacheControl.ABSENT)) {
            return new StoreDecision.DontStore("stale-no-validator");
        }
        return new StoreDecision.Store(meta, stripFields(cc, response));
    }

    /** The names (lower case) the stored copy leaves out: see {@link StoreDecision.Store#stripFields}. */
    static List<String> stripFields(CacheControl cc, HttpHeaders response) {
        List<String> out = new ArrayList<>(NEVER_STORED);
        addAll(out, cc.privateFields());
        addAll(out, cc.noCacheFields());
        Iterator<String> it = response.valueStringIterator(HttpHeaderNames.CONNECTION);
        while (it.hasNext()) {
            for (String name : it.next().split(",")) {
                String n = name.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty() && !n.equals("close") && !out.contains(n)) {
                    out.add(n);
                }
            }
        }
        return List.copyOf(out);
    }

    private static void addAll(List<String> out, List<String> names) {
        for (String n : names) {
            if (!out.contains(n)) {
                out.add(n);
            }
        }
    }
}
