package dev.portcullis.http;

import dev.portcullis.cache.store.AbortReason;
import dev.portcullis.cache.store.Fill;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import dev.portcullis.upstream.pool.UpstreamUser;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rest of an upstream response being stored whose client went away: read into the cache anyway, so the
 * requests collapsed onto it (and the next ones) get the whole object instead of a cut one, as Varnish's
 * background fetch does. It takes over the leg's connection, the endpoint's in-flight count and the breaker slot,
 * and gives them back when the body ends, fails, outgrows max_object_size, or takes longer than the route's
 * timeout (30 s without one).
 */
final class OrphanFill implements UpstreamUser {
    private static final Logger log = LoggerFactory.getLogger(OrphanFill.class);

    private final Fill fill;
    private final Upstream upstream;
    private final Endpoint endpoint;
    private final UpstreamPools pools;
    private final boolean keepAlive;
    private final BooleanSupplier draining;
    private final String routeName;
    private final String requestId;
    private final ScheduledFuture<?> timeout;
    private UpstreamConnection conn;
    private boolean done;

    /**
     * Takes over {@code conn} at once; the caller has ended its own use of it (it no longer counts the request, the
     * breaker slot or the endpoint's in-flight request: this does).
     */
    OrphanFill(Fill fill, UpstreamConnection conn, Upstream upstream, Endpoint endpoint, UpstreamPools pools,
               boolean keepAlive, BooleanSupplier draining, long timeoutNanos, String routeName, String requestId) {
        this.fill = fill;
        this.conn = conn;
        this.upstream = upstream;
        this.endpoint = endpoint;
        this.pools = pools;
        this.keepAlive = keepAlive;
        this.draining = draining;
        this.routeName = routeName;
        this.requestId = requestId;
        long nanos = timeoutNanos > 0 ? timeoutNanos : RefreshLeg.DEFAULT_TIMEOUT_NANOS;
        this.timeout = pools.loop().schedule(() -> end(false, "the rest of the body took longer than "
                + nanos / 1_000_000 + " ms"), nanos, TimeUnit.NANOSECONDS);
        conn.user(this);
        conn.channel().config().setAutoRead(true); // it may have been paused for the slow client
    }

    @Override
    public void onUpstreamRead(HttpObject msg) {
        try {
            if (done || !(msg instanceof HttpContent c)) {
                return;
            }
            if (c.decoderResult().isFailure()) {
                end(false, "invalid response body");
                return;
            }
            if (!fill.append(c.content())) {
                end(false, null); // over max_object_size: the fill ended itself, nobody wants the rest
                return;
            }
            if (c instanceof LastHttpContent) {
                fill.complete();
                end(true, null);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
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
        end(false, cause == null ? "the upstream closed the connection" : "connection failed: " + cause);
    }

    /** @param complete the body ended cleanly: the connection may go back to the pool */
    private void end(boolean complete, String why) {
        if (done) {
            return;
        }
        done = true;
        timeout.cancel(false);
        fill.abort(AbortReason.UPSTREAM_FAILED); // a no-op after complete
        UpstreamConnection c = conn;
        conn = null;
        endpoint.requestFinished();
        upstream.breaker().requestFinished();
        if (complete && keepAlive && !draining.getAsBoolean()) {
            pools.release(c, upstream);
        } else {
            c.discard();
        }
        if (why != null) {
            log.warn("route {}: upstream {}: storing a response whose client left failed: {}; the requests waiting "
                    + "for it are cut, the next one fetches it again (request id {})", routeName, endpoint, why,
                    requestId);
        }
    }
}
