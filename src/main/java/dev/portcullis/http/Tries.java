package dev.portcullis.http;

import dev.portcullis.config.RetryConfig;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import java.util.Arrays;

/**
 * The tries of one request to one upstream: which endpoints it went to (so each try goes to another one while
 * there is one), whether the route's {@code retry} allows one more after a failure, and the pause before it. The
 * {@link UpstreamLeg} owns one and does the I/O; this class holds no connection and no timer.
 */
final class Tries implements PickContext {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Tries.class);
    private final Exchange ex;
    private final Upstream upstream;
    private final RetryConfig retry;
    private final boolean repeatable;
    /** Tries started so far (a stale pooled connection replaced by a fresh one is the same try). */
    private int count;
    /** The first try's endpoint; later ones in {@link #more}, made only when a request has a second try. */
    private Endpoint first;
    private Endpoint[] more;
    /** {@link #tried(Endpoint)} looks at tries from..count-1: raised when every endpoint was tried and one may repeat. */
    private int from;
    /** The next try may go to an endpoint tried before, when there is no other (retries that reached an endpoint). */
    private boolean repeatAllowed;
    private long startNanos;

    Tries(Exchange ex, Upstream upstream) {
        this.ex = ex;
        this.upstream = upstream;
        this.retry = ex.route.retry();
        this.repeatable = Retries.idempotent(ex.request.method()) || retry.nonIdempotent();
        if (!retry.isDefault()) {
            upstream.retryBudget().request();
        }
    }

    /**
     * The endpoint of the next try, recorded as tried, or null when none is left: the sticky pin on the first
     * try, else the balancer's choice among those not tried, else (for retries that reached an endpoint) one tried
     * before, preferably not the one that just failed.
     */
    Endpoint next() {
        Endpoint e = count == 0 ? StickyCookie.pinned(ex, upstream, this) : null;
        if (e == null) {
            e = upstream.choose(this);
        }
        if (e == null && repeatAllowed) {
            from = count - 1;
            e = upstream.choose(this);
            if (e == null) {
                from = count;
                e = upstream.choose(this);
            }
        }
        if (e == null) {
            return null;
        }
        if (count == 0) {
            first = e;
        } else if (more == null) {
            more = new Endpoint[] {e, null};
        } else {
            if (count - 1 == more.length) {
                more = Arrays.copyOf(more, more.length * 2);
            }
            more[count - 1] = e;
        }
        count++;
        startNanos = System.nanoTime();
        return e;
    }

    /** Tries started so far. */
    int count() {
        return count;
    }

    /** When the current try started (connect included): its response time feeds the balancer. */
    long startNanos() {
        return startNanos;
    }

    /**
     * Whether this request may have another try after a failure of kind {@code f}. Without a route {@code retry},
     * only connect failures move on. With one: the route lists the failure and has attempts left; a failure that
     * reached an endpoint also needs a method that may be repeated, no body bytes sent, and room in the upstream's
     * retry budget (which this call then spends). A connect failure put no load on any endpoint: no budget.
     */
    boolean mayRetry(Retries.Failure f, int status, boolean bodyBytesSent) {
        if (f == Retries.Failure.CONNECT) {
            // Nothing reached that endpoint: move on to one not tried at all, even after a round of repeats.
            repeatAllowed = false;
            from = 0;
        }
        if (retry.isDefault()) {
            return f == Retries.Failure.CONNECT;
        }
        if (!Retries.on(retry, f, status) || count >= retry.attempts()) {
            return false;
        }
        if (f == Retries.Failure.CONNECT) {
            return true;
        }
        if (bodyBytesSent || !repeatable) {
            return false;
        }
        if (!upstream.retryBudget().tryRetry(retry.budgetPercent())) {
            LOG.debug("route {}: upstream {}: retry budget of {}% spent; no retry (request id {})", ex.route.name(),
                    upstream.name(), retry.budgetPercent(), ex.requestId);
            return false;
        }
        return true;
    }

    /** The pause before the retry that {@link #mayRetry} allowed; that retry may repeat an endpoint. */
    long backoffNanos() {
        repeatAllowed = true;
        return Retries.backoffNanos(retry, count);
    }

    @Override
    public boolean tried(Endpoint e) {
        for (int i = from; i < count; i++) {
            if ((i == 0 ? first : more[i - 1]) == e) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long hashKey() {
        return RequestHash.of(ex, upstream.config().hashOn());
    }
}
