package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheControl;
import dev.portcullis.cache.policy.CacheStatus;
import dev.portcullis.cache.policy.Conditionals;
import dev.portcullis.cache.policy.ServeDecision;
import dev.portcullis.cache.policy.ServePolicy;
import dev.portcullis.cache.policy.Storability;
import dev.portcullis.cache.policy.StoredMeta;
import dev.portcullis.cache.policy.Validation;
import dev.portcullis.cache.store.AbortReason;
import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.cache.store.Fill;
import dev.portcullis.cache.store.FollowOutcome;
import dev.portcullis.cache.store.Lookup;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.upstream.Upstream;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache in front of one exchange of a caching route (GET or HEAD without a body): looks the request up once it
 * is complete, then either serves a stored response, waits for another request's fetch of the same object
 * (collapsed forwarding), or goes upstream and fills the entry while the response streams to the client. Lives on
 * the client connection's event loop, like the exchange.
 *
 * <p>Policy decisions come from {@code cache.policy} (Storability, ServePolicy); the store ({@code cache.store})
 * holds bodies and fills. Hits are written through {@link ResponseWriter} like upstream responses, so route
 * response filters (and compression) apply to them alike: the cache stores what the origin sent, identity.
 *
 * <p>A HEAD that misses goes upstream as a GET (as nginx's {@code proxy_cache_convert_head}), so its answer can be
 * stored; the client gets the head only (the encoder drops the body of a response to HEAD).
 */
final class CacheFront {
    private static final Logger log = LoggerFactory.getLogger(CacheFront.class);

    private final HttpProxyHandler client;
    private final Exchange ex;
    private final Upstream upstream;
    private final RouteCache cache;
    /** Writes stored responses to this exchange's client. */
    private final StoredAnswer answer;
    private CacheControl requestCc;
    private String primaryKey;
    /** The request headers as the client sent them, kept for the leader (filters change the request in place). */
    private HttpHeaders clientHeaders;
    private long requestTime;
    /** Why this request went forward, for Cache-Status; null while it did not. */
    private CacheStatus.Fwd fwd;
    private String fwdDetail;
    /** The fill this request leads, until it ends (stored, declined or aborted). */
    private Fill fill;
    /** The fill took the head: body chunks are appended. */
    private boolean storing;
    private CompletableFuture<FollowOutcome> following;
    /** The lookup in the lower tiers this request waits for. */
    private CompletableFuture<Lookup> pending;
    private boolean aborted;
    /**
     * The stored response this request revalidates (its own reference): it answers after a 304, or after an error
     * within stale-if-error. Released (or handed to the answer) once the outcome is known.
     */
    private StoredResponse revalidating;
    /** The upstream's response is not the client's: what to do once it has ended. */
    private AfterUpstream afterUpstream;
    /** After a 304: the freshened fields to answer with, and when the 304 came. */
    private HttpHeaders freshened;
    private boolean freshenedStored;
    private long freshenedAt;
    /** The upstream status that made a stale response answer (stale-if-error). */
    private int errorStatus;
    /** What the exchange's request was before it went upstream, to send it again without conditions. */
    private String upstreamPathAtLead;

    /** What the cache does with an upstream response it keeps from the client. */
    private enum AfterUpstream {
        /** A 304 validated the stored response: it answers. */
        SERVE_FRESHENED,
        /** An error status within stale-if-error: the stored response answers. */
        SERVE_STALE,
        /** The 304's validator names another response: fetch the whole response again, unconditionally. */
        REFETCH
    }
    private boolean started;

    CacheFront(HttpProxyHandler client, Exchange ex, Upstream upstream, RouteCache cache) {
        this.client = client;
        this.ex = ex;
        this.answer = new StoredAnswer(client, ex);
        this.upstream = upstream;
        this.cache = cache;
    }

    /** The cache takes GET and HEAD requests without a body (a body makes a request its own, never a key). */
    static boolean applies(Exchange ex) {
        String m = ex.request.method().name();
        if (!"GET".equals(m) && !"HEAD".equals(m) || ex.upgrade) {
            return false;
        }
        return !HttpUtil.isTransferEncodingChunked(ex.request) && HttpUtil.getContentLength(ex.request, 0L) == 0;
    }

    boolean started() {
        return started;
    }

    private CacheZone zone() {
        return cache.zone();
    }

    // ---- lookup ----

    /** The request is complete: look it up. */
    void start() {
        started = true;
        HttpHeaders h = ex.request.headers();
        requestCc = CacheControl.request(h);
        String host = h.get(HttpHeaderNames.HOST);
        primaryKey = cache.keys().key(ex.scheme(), host != null ? host : ex.host, ex.rawUri, h);
        // a lower tier may compute the variant key on its own thread: it gets a copy the filters cannot change
        Lookup l = zone().lookup(primaryKey, CacheFills.variants(zone().hasLowerTiers() ? h.copy() : h),
                client.ctx.executor(), Duration.ofNanos(cache.followWaitNanos()));
        onLookup(l);
    }

    private void onLookup(Lookup l) {
        if (l instanceof Lookup.Pending p) {
            pending = p.next();
            // completes on this event loop (the zone hands it over)
            p.next().whenComplete((next, err) -> onLoaded(p.next(), next));
        } else if (l instanceof Lookup.Hit hit) {
            onStored(hit.response());
        } else if (l instanceof Lookup.Lead lead) {
            if (requestCc.onlyIfCached()) {
                lead.fill().uncacheable(); // nobody fetches it: a follower that came meanwhile goes upstream
                gatewayTimeout("only-if-cached");
                return;
            }
            lead(lead.fill(), lead.otherVariants() ? CacheStatus.Fwd.VARY_MISS : CacheStatus.Fwd.URI_MISS, null);
        } else {
            follow(((Lookup.Follow) l).outcome());
        }
    }

    /** The lower tiers answered: as a lookup in memory would have, unless this request is over meanwhile. */
    private void onLoaded(CompletableFuture<Lookup> which, Lookup next) {
        if (pending == which) {
            pending = null;
        }
        boolean gone = client.current() != ex || ex.responseStarted || aborted;
        if (next == null) {
            if (!gone) {
                zone().stats().miss();
                forwardAlone(CacheStatus.Fwd.MISS, "tier-failed");
            }
        } else if (!gone) {
            onLookup(next);
        } else if (next instanceof Lookup.Hit hit) {
            hit.response().release();
        } else if (next instanceof Lookup.Lead lead) {
            lead.fill().abort(AbortReason.UPSTREAM_FAILED); // nobody fetches it: its followers go upstream
        }
    }

    /** A stored response was found: the policy decides whether it answers. */
    private void onStored(StoredResponse stored) {
        long now = System.currentTimeMillis();
        HttpHeaders headers = CacheFills.headersOf(stored.meta());
        StoredMeta sm = CacheFills.storedMeta(stored);
        ServeDecision d = ServePolicy.decide(requestCc, ex.request.headers(), sm, now);
        if (d.hit() && Conditionals.originOnly(ex.request.headers())) {
            // If-Match / If-Unmodified-Since: only the origin may evaluate them (RFC 9111 section 4.3.2)
            stored.release();
            zone().stats().miss();
            forwardAlone(CacheStatus.Fwd.REQUEST, "origin-conditional");
        } else if (d instanceof ServeDecision.Fresh) {
            zone().stats().hit();
            answer.answer(stored, headers, sm, now, CacheStatus.hit().ttl(sm.ttlSeconds(now)), ex.request.headers());
        } else if (d instanceof ServeDecision.Stale s) {
            // max-stale from the client, or within stale-while-revalidate: then one refresh in the background
            zone().stats().staleServed();
            if (s.revalidate()) {
                zone().startRefresh(stored).ifPresent(f -> RefreshLeg.start(client, ex, f, primaryKey, requestCc));
            }
            answer.answer(stored, headers, sm, now, CacheStatus.hit().ttl(sm.ttlSeconds(now)).detail(s.detail()),
                    ex.request.headers());
        } else if (d instanceof ServeDecision.Validate v) {
            // a conditional request upstream; requests that come meanwhile follow it
            Lookup l = zone().revalidate(stored, CacheFills.variants(ex.request.headers()), client.ctx.executor(),
                    Duration.ofNanos(cache.followWaitNanos()));
            if (l instanceof Lookup.Lead lead) {
                revalidating = stored;
                lead(lead.fill(), v.fwd(), v.detail());
            } else {
                stored.release();
                follow(((Lookup.Follow) l).outcome());
            }
        } else if (d instanceof ServeDecision.Forward f) {
            stored.release();
            zone().stats().miss();
            forwardAlone(f.fwd(), f.detail());
        } else {
            stored.release();
            gatewayTimeout(d.detail());
        }
    }

    private void gatewayTimeout(String detail) {
        client.reply(ex, LocalReply.error(504, "the cache has no usable response and the request said "
                + detail));
    }

    // ---- going upstream ----

    /** This request fetches the object for the cache (and for the requests that follow it). */
    private void lead(Fill f, CacheStatus.Fwd why, String detail) {
        fill = f;
        fwd = why;
        fwdDetail = detail;
        if (f.stale() == null) {
            zone().stats().miss(); // a revalidation counts once its outcome is known (hit, stale or miss)
        }
        clientHeaders = ex.request.headers().copy();
        upstreamPathAtLead = ex.upstreamPath;
        if (ex.head) {
            ex.requestLine(); // logged as received
            ex.request.setMethod(HttpMethod.GET);
        }
        if (f.stale() != null) {
            Validation.conditionalRequest(CacheFills.headersOf(f.stale().meta()), ex.request.headers());
        }
        requestTime = System.currentTimeMillis();
        client.forwardFromCache(ex, upstream);
    }

    /**
     * The 304 of a revalidation named another response than the stored one (RFC 9111 section 4.3.4): the request
     * goes again as the client sent it, without conditions, and its answer fills the entry as a miss does.
     */
    private void refetch() {
        // in a task of its own: the old response's connection went back to the pool inside the read that ended
        // it, and the new request may take that connection (as pipelined requests are replayed)
        client.ctx.executor().execute(() -> {
            if (!aborted && client.current() == ex && !ex.responseStarted) {
                sendAgainWithoutConditions();
            }
        });
    }

    private void sendAgainWithoutConditions() {
        HttpHeaders h = ex.request.headers();
        h.clear();
        h.add(clientHeaders);
        Validation.removeClientConditions(h);
        ex.request.setUri(ex.rawUri);
        ex.request.setMethod(HttpMethod.GET);
        ex.upstreamPath = upstreamPathAtLead;
        releaseRevalidating();
        requestTime = System.currentTimeMillis();
        client.forwardFromCache(ex, upstream);
    }

    /** Upstream without the cache's help: nothing is stored from this response. */
    private void forwardAlone(CacheStatus.Fwd why, String detail) {
        fwd = why;
        fwdDetail = detail;
        client.forwardFromCache(ex, upstream);
    }

    /**
     * The upstream's response head (hop-by-hop fields removed), before it goes to the client: the leader decides
     * whether it is stored and starts the fill; every forwarded response gets its Cache-Status. A revalidation's
     * 304 (and an error within stale-if-error) is kept from the client: the stored response answers once it ends.
     *
     * @return true when the response is the cache's, not the client's: its body is dropped, and
     *         {@link #onUpstreamEnd()} is called at its end
     */
    boolean onUpstreamHead(HttpResponse res) {
        int code = res.status().code();
        if (revalidating != null) {
            if (code == 304 && fill != null) {
                Fill f = fill;
                CacheFills.Freshening result = CacheFills.freshen(f, clientHeaders, requestTime, res.headers());
                freshenedAt = System.currentTimeMillis();
                if (result == null) {
                    afterUpstream = AfterUpstream.REFETCH; // the fill stays open for the full response
                } else {
                    fill = null; // ended by the freshening
                    freshened = result.headers();
                    freshenedStored = result.stored();
                    afterUpstream = AfterUpstream.SERVE_FRESHENED;
                }
                return true;
            }
            if (ServePolicy.isError(code) && staleIfErrorAllows()) {
                endFill();
                errorStatus = code;
                afterUpstream = AfterUpstream.SERVE_STALE;
                return true;
            }
            releaseRevalidating(); // a new response replaces the stored one, as a miss's would be stored
            zone().stats().miss();
        }
        CacheStatus status = CacheStatus.forward(fwd == null ? CacheStatus.Fwd.MISS : fwd);
        String detail = fwdDetail;
        if (fill != null) {
            detail = CacheFills.begin(fill, primaryKey, clientHeaders, requestCc, requestTime, res);
            if (detail == null) {
                storing = true;
                status.stored(true);
            } else {
                fill = null; // ended by begin
            }
        }
        status.fwdStatus(code);
        if (detail != null) {
            status.detail(detail);
        }
        status.addTo(res.headers());
        return false;
    }

    /** Whether the upstream's response is being kept from the client ({@link #onUpstreamHead} returned true). */
    boolean ownsUpstreamResponse() {
        return afterUpstream != null;
    }

    /** The response kept from the client ended (its connection is back in the pool): now answer the client. */
    void onUpstreamEnd() {
        AfterUpstream what = afterUpstream;
        afterUpstream = null;
        if (what == AfterUpstream.REFETCH) {
            refetch();
            return;
        }
        StoredResponse r = revalidating;
        revalidating = null;
        long now = System.currentTimeMillis();
        if (what == AfterUpstream.SERVE_FRESHENED) {
            HttpHeaders headers = freshened;
            freshened = null;
            zone().stats().hit();
            StoredMeta sm = StoredMeta.of(r.meta().status(), headers, requestTime, freshenedAt);
            answer.answer(r, headers, sm, now, CacheStatus.forward(fwd).fwdStatus(304).stored(freshenedStored)
                    .ttl(sm.ttlSeconds(now)), clientHeaders);
        } else {
            serveStale(r, errorStatus, now);
        }
    }

    /**
     * The upstream failed (connect failure, timeout, circuit open) while this request revalidated a stored
     * response: within stale-if-error (RFC 5861 section 4) the stored response answers instead of the error.
     *
     * @param status the status the failure would be answered with (502, 503, 504)
     * @return true when it answered
     */
    boolean serveStaleOnFailure(int status) {
        if (afterUpstream != null) {
            return answerWithoutUpstreamEnd(); // the stored response was to answer anyway; no need for the rest
        }
        if (revalidating == null || ex.responseStarted || !staleIfErrorAllows()) {
            return false;
        }
        endFill();
        StoredResponse r = revalidating;
        revalidating = null;
        serveStale(r, 0, System.currentTimeMillis()); // the failure's status is ours, not the origin's
        return true;
    }

    /**
     * The response kept from the client broke off (or timed out) before its end: a stored response that was to
     * answer answers now (its body was never wanted).
     *
     * @return false for a refetch that cannot be sent now: then the caller answers the failure
     */
    boolean answerWithoutUpstreamEnd() {
        if (afterUpstream == AfterUpstream.SERVE_FRESHENED || afterUpstream == AfterUpstream.SERVE_STALE) {
            onUpstreamEnd();
            return true;
        }
        afterUpstream = null;
        return false;
    }

    /**
     * The origin could not be reached while this request revalidated a response that says {@code must-revalidate}
     * or {@code proxy-revalidate}: RFC 9111 section 5.2.2.2 asks for a 504 then (the stored response may not be
     * used, and the client should know that it is a gateway problem).
     */
    boolean revalidationMustFail() {
        if (revalidating == null) {
            return false;
        }
        var cc = CacheFills.storedMeta(revalidating).cacheControl();
        return cc.mustRevalidate() || cc.proxyRevalidate();
    }

    /** A revalidation is under way whose stored response may still answer (the route timeout keeps the cache). */
    boolean holdsStaleResponse() {
        return revalidating != null;
    }

    private boolean staleIfErrorAllows() {
        return ServePolicy.staleIfError(requestCc, CacheFills.storedMeta(revalidating), System.currentTimeMillis());
    }

    /**
     * @param upstreamStatus the origin's error status, or 0 when the origin did not answer (a connect failure, a
     *                       timeout: then Cache-Status has no fwd-status, as no next hop gave one)
     */
    private void serveStale(StoredResponse r, int upstreamStatus, long now) {
        zone().stats().staleServed();
        log.warn("listener {}: route {}: upstream {} for {}; serving the stored response within its "
                + "stale-if-error window (request id {})", client.listener().name(), ex.route.name(),
                upstreamStatus > 0 ? "answered " + upstreamStatus : "failed", primaryKey, ex.requestId);
        HttpHeaders headers = CacheFills.headersOf(r.meta());
        StoredMeta sm = CacheFills.storedMeta(r);
        CacheStatus status = CacheStatus.forward(CacheStatus.Fwd.STALE).ttl(sm.ttlSeconds(now))
                .detail("stale-if-error");
        if (upstreamStatus > 0) {
            status.fwdStatus(upstreamStatus);
        }
        answer.answer(r, headers, sm, now, status, clientHeaders);
    }

    /** The fill whose body this request's upstream response is streaming into; null when none. */
    Fill storingFill() {
        return storing ? fill : null;
    }

    /** Another reader took over {@link #storingFill()}: this request no longer ends it. */
    void releaseFill() {
        fill = null;
        storing = false;
    }

    /** Ends the fill this request leads without storing: its followers go upstream themselves. */
    private void endFill() {
        Fill f = fill;
        fill = null;
        storing = false;
        if (f != null) {
            f.abort(AbortReason.UPSTREAM_FAILED);
        }
    }

    private void releaseRevalidating() {
        StoredResponse r = revalidating;
        revalidating = null;
        if (r != null) {
            r.release();
        }
    }

    /** A body chunk from upstream, before the client's writer takes it: the store keeps its own copy. */
    void onUpstreamContent(HttpContent c) {
        if (!storing) {
            return;
        }
        if (!fill.append(c.content())) {
            storing = false; // over max_object_size: the fill ended itself
            fill = null;
            return;
        }
        if (c instanceof LastHttpContent) {
            storing = false;
            Fill f = fill;
            fill = null;
            f.complete();
        }
    }

    // ---- following another request's fetch ----

    private void follow(CompletableFuture<FollowOutcome> outcome) {
        following = outcome;
        // completes on this event loop (the store hands it over), or at once when the leader already decided
        outcome.whenComplete((out, err) -> onFollowed(outcome, out));
    }

    private void onFollowed(CompletableFuture<FollowOutcome> outcome, FollowOutcome out) {
        if (following == outcome) {
            following = null;
        }
        if (out == null) {
            return; // cancelled: the client went away
        }
        if (client.current() != ex || ex.responseStarted) {
            if (out instanceof FollowOutcome.Attached a) {
                a.response().release();
            }
            return;
        }
        if (out instanceof FollowOutcome.Attached a) {
            zone().stats().collapsed();
            StoredResponse r = a.response();
            long now = System.currentTimeMillis();
            HttpHeaders headers = CacheFills.headersOf(r.meta());
            StoredMeta sm = CacheFills.storedMeta(r);
            answer.send(r, headers, sm, now, CacheStatus.forward(CacheStatus.Fwd.MISS).collapsed(true)
                    .ttl(sm.ttlSeconds(now)));
        } else {
            FollowOutcome.GoUpstream g = (FollowOutcome.GoUpstream) out;
            zone().stats().miss();
            forwardAlone(g.reason() == FollowOutcome.Reason.VARIANT_MISMATCH ? CacheStatus.Fwd.VARY_MISS
                    : CacheStatus.Fwd.MISS, g.reason().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
    }

    // ---- the end ----

    /**
     * The exchange ended or failed (upstream failure, client gone, timeout): a fill this request leads is aborted
     * (its followers go upstream, or are cut if they already stream it), a wait or a delivery is cancelled.
     */
    void abort() {
        aborted = true;
        pending = null; // its answer is ended by onLoaded
        afterUpstream = null;
        endFill();
        releaseRevalidating();
        CompletableFuture<FollowOutcome> w = following;
        following = null;
        if (w != null) {
            w.cancel(false);
        }
        answer.cancel();
    }

    /** The client can take more again. */
    void writable() {
        answer.writable();
    }
}
