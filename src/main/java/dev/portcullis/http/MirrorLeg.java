package dev.portcullis.http;

import dev.portcullis.observe.MirrorStats.Result;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PickContext;
import dev.portcullis.upstream.pool.CircuitOpenException;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import dev.portcullis.upstream.pool.UpstreamUser;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A copy of one request sent to the route's {@code mirror} upstream; the answer is read and dropped. It never
 * slows or fails the real request: it runs on the client's event loop with its own pooled connection, gets
 * duplicates of the body chunks as they are forwarded, and when it cannot keep up (not connected yet, or its
 * socket not writable, with more than {@value #MAX_BEHIND_BYTES} bytes or {@value #MAX_QUEUED_CHUNKS} chunks
 * waiting) it is given up rather than pausing the client. The copy's Host gets "-shadow" appended to its host part
 * (as Envoy does), so the mirror's logs tell copies apart. Failures are counted in
 * {@code portcullis_mirror_requests_total} and logged sparingly ({@link MirrorGate}). A copy is not sent while the
 * mirror upstream's {@code circuit_breaker.max_requests} are in flight, nor beyond
 * {@value MirrorGate#MAX_COPIES_IN_FLIGHT} copies in flight in the process.
 *
 * <p>Once the client's exchange is over the copy goes on by itself if it had the whole request, until its
 * answer ends or its timeout (the route's, else 15 s) passes.
 */
final class MirrorLeg implements UpstreamUser, PickContext {
    static final int MAX_BEHIND_BYTES = 1024 * 1024;
    static final int MAX_QUEUED_CHUNKS = 256;

    private final CompiledRoute.Mirror mirror;
    private final Upstream upstream;
    private final UpstreamPools pools;
    private final ListenerContext listener;
    private final String routeName;
    /** Set while the client's exchange runs (to know whether a flush comes at the end of its read batch). */
    private HttpProxyHandler client;
    /** Only while choosing the endpoint (for hash_on). */
    private Exchange pickFor;
    private Endpoint endpoint;
    private HttpRequest head;
    private UpstreamConnection conn;
    private ArrayDeque<HttpContent> queue;
    private long queuedBytes;
    /** Bytes written while the connection was not writable: how far the mirror is behind. */
    private long behindBytes;
    private ScheduledFuture<?> timeout;
    private boolean counted;
    private boolean admitted;
    private boolean requestEnded;
    private boolean requestWritten;
    private boolean unflushed;
    private boolean skipInformationalEnd;
    private boolean responseStarted;
    private boolean keepAlive;
    private boolean done;

    private MirrorLeg(HttpProxyHandler client, Exchange ex, CompiledRoute.Mirror mirror) {
        this.client = client;
        this.mirror = mirror;
        this.upstream = mirror.upstream();
        this.pools = client.pools;
        this.listener = client.listener();
        this.routeName = ex.route.name();
    }

    /**
     * Starts a copy of the exchange's request for {@code percent} of requests. Call after the upstream request
     * head is final (filters and target applied), before it is sent.
     *
     * @return null when this request is not mirrored (or its copy failed at once); else feed it with {@link #tee}
     */
    static MirrorLeg maybeStart(HttpProxyHandler client, Exchange ex) {
        CompiledRoute.Mirror m = ex.route.mirror();
        if (m == null || !(ThreadLocalRandom.current().nextDouble(100) < m.percent())) {
            return null;
        }
        MirrorLeg leg = new MirrorLeg(client, ex, m);
        leg.start(ex);
        return leg.done ? null : leg;
    }

    private void start(Exchange ex) {
        String refused = MirrorGate.admit(upstream);
        if (refused != null) {
            end(Result.SKIPPED, refused);
            return;
        }
        admitted = true;
        pickFor = ex;
        endpoint = upstream.choose(this);
        pickFor = null;
        if (endpoint == null) {
            end(Result.FAILED, "no healthy endpoint in upstream '" + upstream.name() + "'");
            return;
        }
        head = ShadowCopy.head(ex.request, endpoint.label());
        timeout = pools.loop().schedule(() -> end(Result.TIMEOUT, "no complete answer within "
                + mirror.timeoutNanos() / 1_000_000 + " ms"), mirror.timeoutNanos(), TimeUnit.NANOSECONDS);
        OneTryConnection.borrow(pools, endpoint, upstream, () -> done, this::attach, this::connectFailed);
    }

    private void connectFailed(Throwable cause) {
        if (cause instanceof CircuitOpenException) {
            end(Result.SKIPPED, "circuit breaker open for upstream '" + upstream.name() + "': " + cause.getMessage()
                    + " reached");
        } else {
            endpoint.stats().connectFailure();
            end(Result.FAILED, "connect failed: " + ConnectFailures.reason(cause));
        }
    }

    private void attach(UpstreamConnection c) {
        conn = c;
        c.user(this);
        endpoint.requestStarted();
        counted = true;
        Channel ch = c.channel();
        ch.write(head, ch.voidPromise());
        unflushed = true;
        ArrayDeque<HttpContent> q = queue;
        queue = null;
        if (q != null) {
            HttpContent p;
            while ((p = q.poll()) != null) {
                if (done) {
                    p.release(); // given up while catching up: drop the rest
                } else {
                    write(p);
                }
            }
        }
        if (!done && (client == null || !client.inReadLoop())) {
            flush();
        }
    }

    /** A chunk of the client's body, as it goes to the real upstream: a duplicate goes to the mirror. */
    void tee(HttpContent c) {
        if (done) {
            return;
        }
        HttpContent copy = ShadowCopy.duplicate(c);
        if (c instanceof LastHttpContent) {
            requestEnded = true;
        }
        if (conn != null) {
            write(copy);
            if (client != null && !client.inReadLoop()) {
                flush(); // a replayed (pipelined) request: no read batch end will flush it
            }
            return;
        }
        if (queue == null) {
            queue = new ArrayDeque<>();
        }
        queue.add(copy);
        queuedBytes += copy.content().readableBytes();
        if (queuedBytes > MAX_BEHIND_BYTES || queue.size() > MAX_QUEUED_CHUNKS) {
            end(Result.ABANDONED, "not connected yet and " + queuedBytes + " bytes of body waiting");
        }
    }

    private void write(HttpContent c) {
        Channel ch = conn.channel();
        boolean writable = ch.isWritable();
        int bytes = c.content().readableBytes();
        if (c instanceof LastHttpContent) {
            requestWritten = true;
        }
        ch.write(c, ch.voidPromise());
        unflushed = true;
        if (!writable) {
            behindBytes += bytes;
            if (behindBytes > MAX_BEHIND_BYTES) {
                end(Result.ABANDONED, "the mirror takes the request body too slowly");
            }
        }
    }

    /** End of the client's read batch. */
    void flush() {
        if (unflushed && conn != null) {
            unflushed = false;
            conn.channel().flush();
        }
    }

    /** The client's exchange is over: the copy goes on alone if it has the whole request, else it is dropped. */
    void exchangeEnded() {
        client = null;
        if (done) {
            return;
        }
        if (!requestEnded) {
            end(Result.ABANDONED, "the client's request ended before its body was complete");
        } else {
            flush();
        }
    }

    // ---- the mirror's answer: read and dropped ----

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
            end(Result.FAILED, "invalid answer: " + RequestChecks.describe(msg.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpResponse res) {
            if (res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                skipInformationalEnd = true;
                if (res.status().code() == 101) {
                    end(Result.FAILED, "the mirror switched protocols");
                }
                return;
            }
            responseStarted = true;
            keepAlive = HttpUtil.isKeepAlive(res);
        }
        if (msg instanceof LastHttpContent) {
            if (skipInformationalEnd) {
                skipInformationalEnd = false;
            } else if (responseStarted) {
                answered();
            }
        }
    }

    private void answered() {
        if (keepAlive && requestWritten && !listener.draining()) {
            UpstreamConnection c = conn;
            conn = null;
            endpoint.requestFinished();
            counted = false;
            pools.release(c, upstream);
        }
        end(Result.OK, null);
    }

    @Override
    public void onUpstreamReadComplete() {
    }

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (writable) {
            behindBytes = 0;
        }
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        end(Result.FAILED, cause == null ? "the mirror closed the connection" : "connection failed: " + cause);
    }

    // ---- PickContext: one try only ----

    @Override
    public long hashKey() {
        return RequestHash.of(pickFor, upstream.config().hashOn());
    }

    @Override
    public boolean tried(Endpoint e) {
        return false;
    }

    /** The copy is over: count it, give back or close its connection, drop what is queued. */
    private void end(Result result, String why) {
        if (done) {
            return;
        }
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (queue != null) {
            queue.forEach(HttpContent::release);
            queue = null;
        }
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            c.discard();
        }
        if (counted) {
            counted = false;
            endpoint.requestFinished();
        }
        if (admitted) {
            admitted = false;
            MirrorGate.release(upstream);
        }
        mirror.stats().record(result);
        if (result != Result.OK) {
            MirrorGate.logFailure(routeName, endpoint == null ? upstream.name() : endpoint, result, why);
        }
    }
}
