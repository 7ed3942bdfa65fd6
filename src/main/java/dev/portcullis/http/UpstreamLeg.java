package dev.portcullis.http;

import dev.portcullis.config.RetryConfig;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.pool.CircuitOpenException;
import dev.portcullis.upstream.pool.UnprocessedRequestException;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import dev.portcullis.upstream.pool.UpstreamUser;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side of one exchange: picks an endpoint, borrows or opens a connection on the client's event
 * loop, streams the request, relays the response to the {@link HttpProxyHandler}, and gives the connection
 * back to the pool when both messages ended cleanly.
 *
 * <p>Without a route {@code retry}, failures before anything was sent move on to another endpoint (as nginx's
 * default {@code proxy_next_upstream error}). With one, the route's conditions decide ({@link Tries#mayRetry}): a
 * connect failure moves on at once; a reset, a per-try timeout or a listed status is retried after a jittered
 * backoff, within the attempts and the upstream's retry budget, for idempotent methods (or all with
 * {@code non_idempotent}) whose body bytes have not gone yet (bodies are streamed, never buffered). A pooled
 * connection that turns out to be closed by the upstream is replaced once by a fresh one for idempotent requests
 * whose body was not sent, whatever the route says. What cannot be retried answers 502/504, or relays the last
 * upstream response.
 *
 * <p>Each request holds one slot of the upstream's circuit breaker from {@link #start} to {@link #end}, and each
 * try's outcome feeds passive health ({@link PassiveHealth}).
 *
 * <p>A WebSocket upgrade is retried as any GET until a response head arrives; once the upstream answers 101 the
 * leg hands its connection to an {@link UpgradeTunnel} (never to the pool) and keeps the breaker slot and the
 * endpoint's in-flight count until the tunnel closes ({@link #tunnelClosed}).
 */
final class UpstreamLeg implements UpstreamUser {
    private static final Logger log = LoggerFactory.getLogger(UpstreamLeg.class);
    private static final int MAX_PENDING_CHUNKS = 16;
    private static final AsciiString CIRCUIT_HEADER = AsciiString.cached("x-portcullis-circuit");

    private final HttpProxyHandler client;
    private final Exchange ex;
    private final Upstream upstream;
    private final UpstreamPools pools;
    private final RetryConfig retry;
    private final boolean idempotent;
    private Tries tries;
    /** The per-try timeout of the try in flight, or the backoff before the next try; null when neither runs. */
    private ScheduledFuture<?> timer;
    /** The upstream's circuit breaker counts this request; given back once, in {@link #end}. */
    private boolean holdsRequestSlot;
    private UpstreamConnection conn;
    private ArrayDeque<HttpContent> pending;
    private boolean unflushed;
    private boolean requestWritten;
    private boolean bodyBytesWritten;
    private boolean reused;
    private boolean staleRetryDone;
    private boolean unprocessedRetryDone;
    private boolean responseStarted;
    private boolean skipInformationalEnd;
    private boolean upstreamKeepAlive;
    private boolean pausedForClient;
    private boolean done;
    private boolean hostFromEndpoint;
    private String lastFailure = "no endpoint available";

    UpstreamLeg(HttpProxyHandler client, Exchange ex, Upstream upstream) {
        this.client = client;
        this.ex = ex;
        this.upstream = upstream;
        this.pools = client.pools;
        this.retry = ex.route.retry();
        this.idempotent = Retries.idempotent(ex.request.method());
    }

    void start() {
        client.timer.routeTimeout(Grpc.effectiveTimeoutNanos(ex.route.timeoutNanos(), ex.request));
        String limit = upstream.breaker().tryStartRequest();
        if (limit != null) {
            circuitOpen(limit);
            return;
        }
        holdsRequestSlot = true;
        tries = new Tries(ex, upstream);
        tryNextEndpoint();
    }

    private void tryNextEndpoint() {
        Endpoint e = tries.next();
        if (e == null) {
            if (tries.count() == 0) {
                fail(503, "no healthy endpoint in upstream '" + upstream.name() + "'");
            } else {
                fail(502, "no endpoint could be reached: " + lastFailure);
            }
            return;
        }
        ex.endpoint = e;
        UpstreamConnection c = pools.poll(e, upstream);
        if (c != null) {
            attach(c, true);
        } else {
            connect(e);
        }
    }

    private void connect(Endpoint e) {
        Future<UpstreamConnection> f = pools.connect(e, upstream);
        if (f.isDone()) {
            connected(e, f);
        } else {
            f.addListener(x -> connected(e, f));
        }
    }

    /**
     * A new connection is ready (for TLS: after the handshake; for HTTP/2: after the endpoint's SETTINGS), or
     * could not be made. A failed TLS handshake is a connect failure like a refused connect: the client's reply
     * names the reason ("TLS handshake failed: certificate not trusted"), the log names the endpoint.
     */
    private void connected(Endpoint e, Future<UpstreamConnection> f) {
        if (done) {
            if (f.isSuccess()) {
                f.getNow().discard();
            }
            return;
        }
        if (f.isSuccess()) {
            attach(f.getNow(), false);
            return;
        }
        Throwable cause = f.cause();
        if (cause instanceof CircuitOpenException) {
            circuitOpen(cause.getMessage());
            return;
        }
        e.stats().connectFailure();
        PassiveHealth.failed(upstream, e);
        // The client sees lastFailure: name the failure, never the address (Netty's messages include it).
        lastFailure = "connect failed: " + ConnectFailures.reason(cause);
        log.warn("route {}: upstream {}: connect to {} failed: {}", ex.route.name(), upstream.name(), e.label(),
                ConnectFailures.detail(cause));
        connectFailed(cause instanceof ConnectTimeoutException);
    }

    private void connectFailed(boolean timedOut) {
        if (tries.mayRetry(Retries.Failure.CONNECT, 0, bodyBytesWritten)) {
            if (timedOut && !upstream.set().anyUntried(tries)) {
                fail(504, "connect to the upstream timed out");
            } else {
                tryNextEndpoint();
            }
        } else if (timedOut) {
            fail(504, "connect to the upstream timed out");
        } else {
            int n = tries.count();
            fail(502, "gave up after " + n + (n == 1 ? " try: " : " tries: ") + lastFailure);
        }
    }

    private void attach(UpstreamConnection c, boolean fromPool) {
        conn = c;
        reused = fromPool;
        c.user(this);
        ex.endpoint.requestStarted();
        Channel ch = c.channel();
        HttpRequest req = ex.request;
        if (hostFromEndpoint || !req.headers().contains(HttpHeaderNames.HOST)) {
            // HTTP/1.0 without Host: name the endpoint actually tried (again on a retry to another one).
            hostFromEndpoint = true;
            req.headers().set(HttpHeaderNames.HOST, ex.endpoint.label());
        }
        ch.write(req, ch.voidPromise());
        unflushed = true;
        if (pending != null) {
            HttpContent p;
            while ((p = pending.poll()) != null) {
                writeBody(p);
            }
            pending = null;
            client.resumeClientReads();
        }
        if (!client.inReadLoop()) {
            flush();
        }
    }

    /** A chunk of the request body from the client. */
    void sendBody(HttpContent c) {
        if (conn == null) {
            if (pending == null) {
                pending = new ArrayDeque<>();
            }
            pending.add(c);
            if (pending.size() >= MAX_PENDING_CHUNKS) {
                client.pauseClientReads();
            }
            return;
        }
        writeBody(c);
        if (!conn.channel().isWritable()) {
            client.pauseClientReads();
        }
    }

    private void writeBody(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.content().isReadable() || (last && !((LastHttpContent) c).trailingHeaders().isEmpty())) {
            bodyBytesWritten = true; // from now on this request cannot be sent again
        }
        Channel ch = conn.channel();
        ch.write(c, ch.voidPromise());
        unflushed = true;
        if (last) {
            requestWritten = true;
            armTryTimeout();
        }
    }

    void flush() {
        if (unflushed && conn != null) {
            unflushed = false;
            conn.channel().flush();
        }
    }

    // ---- upstream events ----

    @Override
    public void onUpstreamRead(HttpObject msg) {
        if (done) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse res) {
            onHead(res);
        } else if (msg instanceof HttpContent c) {
            onContent(c);
        }
    }

    private void onHead(HttpResponse res) {
        if (res.decoderResult().isFailure()) {
            brokenReply("invalid response head: " + RequestChecks.describe(res.decoderResult().cause()));
            return;
        }
        int code = res.status().code();
        if (res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            skipInformationalEnd = true;
            if (code == 101) {
                if (ex.upgrade && WebSocketUpgrade.isAccepted(res)) {
                    switchProtocols(res);
                } else if (ex.upgrade) {
                    brokenReply("upstream switched to '" + res.headers().get(HttpHeaderNames.UPGRADE)
                            + "' instead of the websocket asked for");
                } else {
                    brokenReply("upstream switched protocols, which this route does not allow");
                }
            } else if (code != 100) {
                client.onInformational(ex, res);
            }
            return;
        }
        cancelTimer();
        PassiveHealth.answered(upstream, ex.endpoint, code, tries.startNanos());
        if (tries.mayRetry(Retries.Failure.STATUS, code, bodyBytesWritten)) {
            // Not relayed: the client gets the next try's response (or, after the last try, its own 5xx).
            ReferenceCountUtil.release(res);
            lastFailure = "the upstream answered " + code;
            log.debug("route {}: upstream {} answered {}; retrying (request id {})", ex.route.name(), ex.endpoint,
                    code, ex.requestId);
            endTry();
            retryLater();
            return;
        }
        responseStarted = true;
        upstreamKeepAlive = HttpUtil.isKeepAlive(res);
        // Chunked or close-delimited upstream bodies have no length: the client side re-frames them
        // (chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0 ones).
        boolean bodyless = ex.head || code == 204 || code == 304;
        boolean lengthUnknown = !bodyless && !res.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
        Headers.removeHopByHop(res.headers());
        StickyCookie.onResponse(ex, upstream, res);
        client.onResponseHead(ex, res, lengthUnknown);
    }

    /** The upstream accepted the WebSocket upgrade: the connection becomes one end of a tunnel. */
    private void switchProtocols(HttpResponse res) {
        cancelTimer();
        PassiveHealth.answered(upstream, ex.endpoint, 101, tries.startNanos());
        responseStarted = true;
        done = true; // nothing more comes through this leg; the slots stay taken until tunnelClosed
        UpstreamConnection c = conn;
        conn = null;
        c.user(null);
        StickyCookie.onResponse(ex, upstream, res);
        client.onSwitchingProtocols(ex, res, c.channel(), this::tunnelClosed);
    }

    /** The tunnel that took this leg's connection is over: the breaker slot and in-flight count go back. */
    private void tunnelClosed() {
        if (holdsRequestSlot) {
            holdsRequestSlot = false;
            upstream.breaker().requestFinished();
        }
        ex.endpoint.requestFinished();
    }

    private void onContent(HttpContent c) {
        if (skipInformationalEnd && c instanceof LastHttpContent) {
            skipInformationalEnd = false;
            c.release();
            return;
        }
        if (c.decoderResult().isFailure()) {
            String why = RequestChecks.describe(c.decoderResult().cause());
            c.release();
            brokenReply("invalid response body: " + why);
            return;
        }
        if (!responseStarted) {
            c.release();
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (last) {
            finishResponse();
        }
        if (!client.onResponseContent(ex, c) && !last) {
            pausedForClient = true;
            conn.channel().config().setAutoRead(false);
        }
    }

    private void finishResponse() {
        end();
        ex.endpoint.requestFinished();
        UpstreamConnection c = conn;
        conn = null;
        if (pausedForClient) {
            c.channel().config().setAutoRead(true);
        }
        if (upstreamKeepAlive && requestWritten && !client.listener().draining()) {
            pools.release(c, upstream);
        } else {
            c.discard();
        }
    }

    @Override
    public void onUpstreamReadComplete() {
        if (!done) {
            client.flushIfNeeded();
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (writable && !done) {
            client.resumeClientReads();
        }
    }

    /** The client can take more (or not): resume (or keep paused) reading the upstream. */
    void clientWritabilityChanged(boolean writable) {
        if (writable && pausedForClient && conn != null) {
            pausedForClient = false;
            conn.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (done) {
            return;
        }
        if (cause instanceof UnprocessedRequestException && !responseStarted && !bodyBytesWritten
                && !unprocessedRetryDone) {
            // HTTP/2: the upstream said it did not process this stream (refused, or above its GOAWAY's last
            // stream): safe to send again whatever the method; not the endpoint's failure, not a retry.
            unprocessedRetryDone = true;
            log.debug("route {}: upstream {}: {}; sending the request again (request id {})", ex.route.name(),
                    ex.endpoint, cause.getMessage(), ex.requestId);
            endTry();
            UpstreamConnection again = pools.poll(ex.endpoint, upstream);
            if (again != null) {
                attach(again, true);
            } else {
                connect(ex.endpoint);
            }
            return;
        }
        String why = cause == null ? "upstream closed the connection"
                : cause instanceof IOException ? "upstream connection failed: " + cause.getMessage()
                : "upstream connection failed: " + cause;
        if (!responseStarted && reused && !staleRetryDone && idempotent && !bodyBytesWritten) {
            // A kept-alive connection the upstream had already closed: try once more on a fresh one. Not the
            // endpoint's failure and not a retry (the request never reached it).
            staleRetryDone = true;
            endTry();
            connect(ex.endpoint);
            return;
        }
        Endpoint e = ex.endpoint;
        e.stats().failure();
        PassiveHealth.failed(upstream, e);
        if (!responseStarted) {
            endTry();
            lastFailure = why + " before sending a response";
            if (tries.mayRetry(Retries.Failure.RESET, 0, bodyBytesWritten)) {
                log.debug("route {}: upstream {}: {}; retrying (request id {})", ex.route.name(), e, lastFailure,
                        ex.requestId);
                retryLater();
            } else {
                fail(502, lastFailure);
            }
            return;
        }
        UpstreamConnection c = conn;
        conn = null;
        end();
        if (c != null) {
            e.requestFinished();
        }
        client.onUpstreamBrokeMidResponse(ex, why);
    }

    // ---- retries and timers ----

    /** The next try after the route's backoff; it may repeat an endpoint when every one was tried. */
    private void retryLater() {
        long delay = tries.backoffNanos();
        if (delay <= 0) {
            tryNextEndpoint();
        } else {
            timer = client.ctx.executor().schedule(this::retryNow, delay, TimeUnit.NANOSECONDS);
        }
    }

    private void retryNow() {
        timer = null;
        if (!done) {
            tryNextEndpoint();
        }
    }

    /**
     * Gives up the connection of the try in flight (whatever it still sends is not wanted) and readies the request
     * for another try: only empty body parts can have gone (else no retry), so the next try sends the head and, if
     * it went, the end again.
     */
    private void endTry() {
        cancelTimer();
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            ex.endpoint.requestFinished();
            c.discard();
        }
        pausedForClient = false;
        skipInformationalEnd = false;
        if (requestWritten) {
            requestWritten = false;
            pendingFront(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** Starts the per-try timeout once the whole request went: from then on, the endpoint owes a response head. */
    private void armTryTimeout() {
        Duration perTry = retry.perTryTimeout();
        if (perTry == null || responseStarted) {
            return;
        }
        cancelTimer();
        int thisTry = tries.count();
        timer = client.ctx.executor().schedule(() -> onTryTimeout(thisTry), perTry.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void onTryTimeout(int thisTry) {
        timer = null;
        if (done || thisTry != tries.count() || responseStarted || conn == null) {
            return;
        }
        Endpoint e = ex.endpoint;
        endTry();
        e.stats().failure();
        PassiveHealth.failed(upstream, e);
        lastFailure = "no response within per_try_timeout (" + retry.perTryTimeout().toMillis() + " ms)";
        if (tries.mayRetry(Retries.Failure.TIMEOUT, 0, bodyBytesWritten)) {
            log.debug("route {}: upstream {}: {}; retrying (request id {})", ex.route.name(), e, lastFailure,
                    ex.requestId);
            retryLater();
        } else {
            fail(504, lastFailure);
        }
    }

    private void cancelTimer() {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            timer = null;
            t.cancel(false);
        }
    }

    /** The upstream's circuit breaker is at a limit: a fast 503 that says which, instead of queueing. */
    private void circuitOpen(String limit) {
        end();
        releasePending();
        client.listener().stats().upstreamCircuitOpen(upstream.name());
        client.onUpstreamRefused(ex, LocalReply.error(503, "circuit breaker open for upstream '" + upstream.name()
                + "': " + limit + " reached").header(CIRCUIT_HEADER, "open"));
    }

    /** The leg is over, whatever the outcome: no timer runs on, and the breaker slot is given back once. */
    private void end() {
        done = true;
        cancelTimer();
        if (holdsRequestSlot) {
            holdsRequestSlot = false;
            upstream.breaker().requestFinished();
        }
    }

    private void pendingFront(HttpContent c) {
        if (pending == null) {
            pending = new ArrayDeque<>();
        }
        pending.addFirst(c);
    }

    private void brokenReply(String why) {
        UpstreamConnection c = conn;
        conn = null;
        end();
        ex.endpoint.stats().failure();
        PassiveHealth.failed(upstream, ex.endpoint);
        if (c != null) {
            ex.endpoint.requestFinished();
            c.discard();
        }
        if (!responseStarted) {
            fail(502, why);
        } else {
            client.onUpstreamBrokeMidResponse(ex, why);
        }
    }

    private void fail(int status, String message) {
        end();
        releasePending();
        client.onUpstreamFailure(ex, status, message);
    }

    /** The exchange ended early (client gone, timeout, body too large): drop the upstream connection. */
    void abort() {
        if (done) {
            return;
        }
        end();
        releasePending();
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            ex.endpoint.requestFinished();
            c.discard();
        }
    }

    /**
     * The client went away while the response streams into the cache: the rest of the body is read into
     * {@code fill} by an {@link OrphanFill}, which takes the connection and this leg's slots.
     *
     * @return false when there is nothing to hand over (no response body in flight): then {@link #abort()}
     */
    boolean handOver(dev.portcullis.cache.store.Fill fill) {
        if (done || conn == null || !responseStarted || !requestWritten) {
            return false;
        }
        done = true;
        cancelTimer();
        releasePending();
        holdsRequestSlot = false; // the orphan gives it back
        UpstreamConnection c = conn;
        conn = null;
        new OrphanFill(fill, c, upstream, ex.endpoint, pools, upstreamKeepAlive, client.listener()::draining,
                ex.route.timeoutNanos(), ex.route.name(), ex.requestId);
        return true;
    }

    /**
     * The route or idle timeout ends the exchange. If the whole request went and no response head came, the
     * endpoint failed to answer in time: passive health counts it, as a per-try timeout.
     */
    void timedOut() {
        if (!done && conn != null && requestWritten && !responseStarted) {
            PassiveHealth.failed(upstream, ex.endpoint);
        }
        abort();
    }

    private void releasePending() {
        if (pending != null) {
            pending.forEach(HttpContent::release);
            pending = null;
        }
    }
}
