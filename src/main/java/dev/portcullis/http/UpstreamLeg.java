package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import dev.portcullis.upstream.pool.UpstreamUser;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side of one exchange: picks an endpoint, borrows or opens a connection on the client's event
 * loop, streams the request, relays the response to the {@link HttpProxyHandler}, and gives the connection
 * back to the pool when both messages ended cleanly.
 *
 * <p>Failures before anything was sent move on to another endpoint (as nginx's default
 * {@code proxy_next_upstream error}); a pooled connection that turns out to be closed by the upstream is
 * replaced once by a fresh one for idempotent requests whose body was not sent. Anything else answers 502/504.
 */
final class UpstreamLeg implements UpstreamUser, PickContext {
    private static final Logger log = LoggerFactory.getLogger(UpstreamLeg.class);
    private static final int MAX_PENDING_CHUNKS = 16;

    private final HttpProxyHandler client;
    private final Exchange ex;
    private final Upstream upstream;
    private final UpstreamPools pools;
    private final boolean idempotent;
    private int attempt;
    /** Endpoints tried so far by this request, so each try goes to a different one while there is one. */
    private Endpoint[] tried = new Endpoint[2];
    private UpstreamConnection conn;
    private ArrayDeque<HttpContent> pending;
    private boolean unflushed;
    private boolean requestWritten;
    private boolean bodyBytesWritten;
    private boolean reused;
    private boolean staleRetryDone;
    private boolean responseStarted;
    private boolean skipInformationalEnd;
    private boolean upstreamKeepAlive;
    private boolean pausedForClient;
    private boolean done;
    private boolean hostFromEndpoint;
    /** When the current try's request was handed to its connection: its response time feeds peak_ewma. */
    private long sentNanos;
    private String lastFailure = "no endpoint available";

    UpstreamLeg(HttpProxyHandler client, Exchange ex, Upstream upstream) {
        this.client = client;
        this.ex = ex;
        this.upstream = upstream;
        this.pools = client.pools;
        HttpMethod m = ex.request.method();
        this.idempotent = m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }

    void start() {
        client.timer.routeTimeout(ex.route.timeoutNanos());
        tryNextEndpoint();
    }

    private void tryNextEndpoint() {
        Endpoint e = upstream.choose(this);
        if (e == null) {
            if (attempt == 0) {
                fail(503, "no healthy endpoint in upstream '" + upstream.name() + "'");
            } else {
                fail(502, "no endpoint could be reached: " + lastFailure);
            }
            return;
        }
        if (attempt == tried.length) {
            tried = java.util.Arrays.copyOf(tried, attempt * 2);
        }
        tried[attempt++] = e;
        ex.endpoint = e;
        UpstreamConnection c = pools.poll(e);
        if (c != null) {
            attach(c, true);
        } else {
            connect(e);
        }
    }

    private void connect(Endpoint e) {
        ChannelFuture f = pools.connect(e, upstream.connectTimeoutMillis());
        f.addListener(future -> {
            Channel ch = f.channel();
            if (done) {
                ch.close();
                return;
            }
            if (future.isSuccess()) {
                attach(UpstreamPools.connectionOf(ch), false);
            } else {
                e.stats().connectFailure();
                upstream.observe(e, 0, true);
                Throwable cause = future.cause();
                // The client sees lastFailure: name the failure, never the address (Netty's messages include it).
                lastFailure = "connect failed: " + connectFailureReason(cause);
                log.warn("route {}: upstream {}: connect to {} failed: {}", ex.route.name(), e, e.label(),
                        cause.getMessage());
                if (cause instanceof ConnectTimeoutException && upstream.choose(this) == null) {
                    fail(504, "connect to the upstream timed out");
                } else {
                    tryNextEndpoint();
                }
            }
        });
    }

    /** A short reason for a failed connect that is safe to show to the client: no address, no port. */
    static String connectFailureReason(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return "connection timed out";
        }
        if (cause instanceof java.net.ConnectException) {
            String m = cause.getMessage();
            if (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("refused")) {
                return "connection refused";
            }
            return "could not connect";
        }
        if (cause instanceof java.net.UnknownHostException || cause instanceof java.nio.channels.UnresolvedAddressException) {
            return "host name not resolved";
        }
        if (cause instanceof java.net.NoRouteToHostException) {
            return "no route to host";
        }
        return cause.getClass().getSimpleName();
    }

    private void attach(UpstreamConnection c, boolean fromPool) {
        conn = c;
        reused = fromPool;
        c.user(this);
        ex.endpoint.requestStarted();
        sentNanos = System.nanoTime();
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
        if (c.content().isReadable()) {
            bodyBytesWritten = true;
        }
        if (c instanceof LastHttpContent) {
            requestWritten = true;
        }
        Channel ch = conn.channel();
        ch.write(c, ch.voidPromise());
        unflushed = true;
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
                brokenReply("upstream switched protocols, which this route does not allow");
            } else if (code != 100) {
                client.onInformational(ex, res);
            }
            return;
        }
        responseStarted = true;
        upstream.observe(ex.endpoint, System.nanoTime() - sentNanos, code >= 500);
        upstreamKeepAlive = HttpUtil.isKeepAlive(res);
        // Chunked or close-delimited upstream bodies have no length: the client side re-frames them
        // (chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0 ones).
        boolean bodyless = ex.head || code == 204 || code == 304;
        boolean lengthUnknown = !bodyless && !res.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
        Headers.removeHopByHop(res.headers());
        client.onResponseHead(ex, res, lengthUnknown);
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
        done = true;
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
        UpstreamConnection c = conn;
        conn = null;
        String why = cause == null ? "upstream closed the connection" : "upstream connection failed: " + cause;
        if (!responseStarted && reused && !staleRetryDone && idempotent && !bodyBytesWritten) {
            // A kept-alive connection the upstream had already closed: try once more on a fresh one.
            staleRetryDone = true;
            ex.endpoint.requestFinished();
            boolean resendLast = requestWritten;
            requestWritten = false;
            if (resendLast) {
                pendingFront(LastHttpContent.EMPTY_LAST_CONTENT);
            }
            connect(ex.endpoint);
            return;
        }
        done = true;
        if (c != null) {
            ex.endpoint.requestFinished();
        }
        ex.endpoint.stats().failure();
        if (!responseStarted) {
            upstream.observe(ex.endpoint, System.nanoTime() - sentNanos, true);
            fail(502, why + " before sending a response");
        } else {
            client.onUpstreamBrokeMidResponse(ex, why);
        }
    }

    // ---- PickContext ----

    @Override
    public boolean tried(Endpoint e) {
        for (int i = 0; i < attempt; i++) {
            if (tried[i] == e) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long hashKey() {
        return RequestHash.of(ex, upstream.config().hashOn());
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
        done = true;
        ex.endpoint.requestFinished();
        ex.endpoint.stats().failure();
        if (c != null) {
            c.discard();
        }
        if (!responseStarted) {
            upstream.observe(ex.endpoint, System.nanoTime() - sentNanos, true);
            fail(502, why);
        } else {
            client.onUpstreamBrokeMidResponse(ex, why);
        }
    }

    private void fail(int status, String message) {
        done = true;
        releasePending();
        client.onUpstreamFailure(ex, status, message);
    }

    /** The exchange ended early (client gone, timeout, body too large): drop the upstream connection. */
    void abort() {
        if (done) {
            return;
        }
        done = true;
        releasePending();
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            ex.endpoint.requestFinished();
            c.discard();
            if (!responseStarted) {
                // No answer yet (route timeout, client gone): it took at least this long.
                upstream.observe(ex.endpoint, System.nanoTime() - sentNanos, false);
            }
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.forEach(HttpContent::release);
            pending = null;
        }
    }
}
