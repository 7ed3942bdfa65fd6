package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheControl;
import dev.portcullis.cache.policy.Validation;
import dev.portcullis.cache.store.AbortReason;
import dev.portcullis.cache.store.Fill;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import dev.portcullis.upstream.pool.UpstreamUser;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one background refresh of a stored response served stale within its {@code stale-while-revalidate} window
 * (RFC 5861 section 3), as nginx's {@code proxy_cache_background_update}. A conditional GET of its own, built from
 * the request that found the stale response as a miss would send it (route filters applied), on that request's
 * event loop with its own pooled connection and one try. A 304 freshens the stored response; a storable answer
 * replaces it; anything else (an error status, a failure, a timeout, an answer that may not be stored) leaves it as
 * it was, to be served stale until its window ends. No client waits for it: requests that come meanwhile are served
 * the stale response or follow its fill; the answer itself reaches no client.
 */
final class RefreshLeg implements UpstreamUser, PickContext {
    private static final Logger log = LoggerFactory.getLogger(RefreshLeg.class);
    /** A refresh without a route timeout still ends: nothing else would end a silent upstream's fill. */
    static final long DEFAULT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Exchange ex;
    private final Fill fill;
    private final Upstream upstream;
    private final UpstreamPools pools;
    private final String primaryKey;
    /** The request's headers as the client sent them: Vary and storability are judged on them. */
    private final HttpHeaders clientHeaders;
    private final CacheControl requestCc;
    private Endpoint endpoint;
    private UpstreamConnection conn;
    private ScheduledFuture<?> timeout;
    private long requestTime;
    private boolean holdsRequestSlot;
    private boolean counted;
    private boolean skipInformationalEnd;
    private boolean responseStarted;
    private boolean storing;
    private boolean keepAlive;
    private boolean done;

    private RefreshLeg(Exchange copy, Fill fill, HttpProxyHandler client, String primaryKey, CacheControl requestCc) {
        this.ex = copy;
        this.fill = fill;
        this.upstream = copy.upstream;
        this.pools = client.pools;
        this.primaryKey = primaryKey;
        this.clientHeaders = copy.request.headers().copy();
        this.requestCc = requestCc;
    }

    /**
     * Starts the refresh {@code fill} (from {@code CacheZone.startRefresh}) stands for; every path ends the fill.
     *
     * @param served the exchange being answered with the stale response (its request is copied, not changed)
     */
    static void start(HttpProxyHandler client, Exchange served, Fill fill, String primaryKey, CacheControl requestCc) {
        new RefreshLeg(served.refreshCopy(), fill, client, primaryKey, requestCc).start();
    }

    private void start() {
        UpstreamRequest.prepare(ex);
        FilterStatus status = ex.route.filters().onRequest(ex);
        if (status instanceof FilterStatus.Respond) {
            end(null, "a route filter answered the request itself");
            return;
        }
        UpstreamRequest.target(ex);
        Validation.conditionalRequest(CacheFills.headersOf(fill.stale().meta()), ex.request.headers());
        String limit = upstream.breaker().tryStartRequest();
        if (limit != null) {
            end(null, "circuit breaker open for upstream '" + upstream.name() + "': " + limit + " reached");
            return;
        }
        holdsRequestSlot = true;
        endpoint = upstream.choose(this);
        if (endpoint == null) {
            end(null, "no healthy endpoint in upstream '" + upstream.name() + "'");
            return;
        }
        ex.endpoint = endpoint;
        long nanos = ex.route.timeoutNanos() > 0 ? ex.route.timeoutNanos() : DEFAULT_TIMEOUT_NANOS;
        timeout = pools.loop().schedule(() -> end(AbortReason.UPSTREAM_FAILED, "no complete answer within "
                + nanos / 1_000_000 + " ms"), nanos, TimeUnit.NANOSECONDS);
        OneTryConnection.borrow(pools, endpoint, upstream, () -> done, this::attach, this::connectFailed);
    }

    private void connectFailed(Throwable cause) {
        if (cause instanceof dev.portcullis.upstream.pool.CircuitOpenException) {
            end(null, "circuit breaker open for upstream '" + upstream.name() + "': " + cause.getMessage()
                    + " reached");
        } else {
            endpoint.stats().connectFailure();
            end(null, "connect failed: " + ConnectFailures.reason(cause));
        }
    }

    private void attach(UpstreamConnection c) {
        conn = c;
        c.user(this);
        endpoint.requestStarted();
        counted = true;
        requestTime = System.currentTimeMillis();
        if (!ex.request.headers().contains(io.netty.handler.codec.http.HttpHeaderNames.HOST)) {
            // an HTTP/1.0 client's request: the origin still needs one (as UpstreamLeg gives it)
            ex.request.headers().set(io.netty.handler.codec.http.HttpHeaderNames.HOST, endpoint.label());
        }
        Channel ch = c.channel();
        ch.write(ex.request, ch.voidPromise());
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
    }

    // ---- the answer goes into the fill ----

    @Override
    public void onUpstreamRead(HttpObject msg) {
        try {
            if (!done) {
                read(msg);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void read(HttpObject msg) {
        if (msg.decoderResult().isFailure()) {
            end(AbortReason.UPSTREAM_FAILED, "invalid answer: " + RequestChecks.describe(msg.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpResponse res) {
            if (res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                skipInformationalEnd = true;
                if (res.status().code() == 101) {
                    end(null, "the upstream switched protocols");
                }
                return;
            }
            responseStarted = true;
            keepAlive = HttpUtil.isKeepAlive(res);
            onHead(res);
        }
        if (done || !(msg instanceof HttpContent c)) {
            return;
        }
        if (skipInformationalEnd) {
            skipInformationalEnd = !(msg instanceof LastHttpContent);
            return;
        }
        if (storing && !fill.append(c.content())) {
            storing = false; // over max_object_size: the fill ended itself; the stale one stays
        }
        if (msg instanceof LastHttpContent) {
            answered();
        }
    }

    private void onHead(HttpResponse res) {
        int code = res.status().code();
        if (code == 304) {
            if (CacheFills.freshen(fill, clientHeaders, requestTime, res.headers()) == null) {
                // the stored response is another representation than the origin's now: it was removed, and the next
                // request fetches the object anew
                fill.uncacheable();
            }
            return;
        }
        if (code >= 500) {
            fill.uncacheable(); // an error does not replace what is stored (and stale-if-error may serve it)
            log.warn("route {}: upstream {}: the background refresh of {} got {}; the stored response stays "
                    + "(request id {})", ex.route.name(), endpoint, primaryKey, code, ex.requestId);
            return;
        }
        storing = CacheFills.begin(fill, primaryKey, clientHeaders, requestCc, requestTime, res) == null;
    }

    private void answered() {
        if (storing) {
            storing = false;
            fill.complete();
        }
        if (keepAlive && !ex.client.listener().draining()) {
            UpstreamConnection c = conn;
            conn = null;
            endpoint.requestFinished();
            counted = false;
            pools.release(c, upstream);
        }
        end(null, null);
    }

    @Override
    public void onUpstreamReadComplete() {
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (!done) {
            endpoint.stats().failure();
        }
        end(AbortReason.UPSTREAM_FAILED, cause == null ? "the upstream closed the connection" : "connection failed: "
                + cause);
    }

    // ---- PickContext: one try ----

    @Override
    public long hashKey() {
        return RequestHash.of(ex, upstream.config().hashOn());
    }

    @Override
    public boolean tried(Endpoint e) {
        return false;
    }

    /**
     * The refresh is over. A fill still open is aborted: before its head its followers go upstream themselves,
     * after it they are cut; the stale response stays stored either way.
     *
     * @param reason why a begun body is aborted; null on a normal end
     * @param why    logged when not null
     */
    private void end(AbortReason reason, String why) {
        if (done) {
            return;
        }
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        storing = false;
        fill.abort(reason != null ? reason : AbortReason.UPSTREAM_FAILED); // a no-op once the fill ended
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            c.discard();
        }
        if (counted) {
            counted = false;
            endpoint.requestFinished();
        }
        if (holdsRequestSlot) {
            holdsRequestSlot = false;
            upstream.breaker().requestFinished();
        }
        if (why != null) {
            log.warn("route {}: upstream {}: the background refresh of {} failed: {}; the stored response stays "
                    + "(request id {})", ex.route.name(), endpoint == null ? upstream.name() : endpoint, primaryKey,
                    why, ex.requestId);
        }
    }
}
