package dev.portcullis.http;

import dev.portcullis.cache.policy.Invalidation;
import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.http.gateway.GateDecision;
import dev.portcullis.http.gateway.RouteGate;
import dev.portcullis.observe.AccessLog;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.pool.UpstreamPools;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP listener: reads requests, routes them, answers locally or hands them to an
 * {@link UpstreamLeg}, and writes responses back. One exchange at a time; pipelined requests wait in a small
 * queue. Writes are flushed once per read batch (ours for the request direction, the upstream's for the
 * response direction), and each direction stops reading while the other side cannot take more.
 *
 * <p>A WebSocket upgrade the upstream accepts (101) ends this handler's part: {@link UpgradeTunnel} replaces it and
 * the HTTP codecs, and hands the exchange back only to be logged when the tunnel closes.
 *
 * <p>The same handler serves one HTTP/2 stream ({@link Http2StreamInitializer}): its channel is the stream's child
 * channel, so it sees exactly one request; closing it resets the stream, never the connection, and reading off
 * stops the stream's WINDOW_UPDATEs, which is how a slow upstream holds back the client's upload.
 */
public final class HttpProxyHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(HttpProxyHandler.class);

    private final ListenerContext listener;
    private final ResponseFraming encoder;
    /** The HTTP/1 request decoder of this connection (null on an HTTP/2 stream): it holds after upgrades. */
    private StrictRequestDecoder decoder;
    /** This handler serves one HTTP/2 stream (a child channel), not an HTTP/1 connection. */
    final boolean http2;
    final ConnectionTimer timer;
    ChannelHandlerContext ctx;
    UpstreamPools pools;
    ClientAddress address = ClientAddress.UNKNOWN;
    private ListenerLimits limits;
    private Exchange current;
    private UpstreamLeg leg;
    /** The copy of the current request for the route's mirror, while it takes body chunks; else null. */
    private MirrorLeg mirror;
    /** The cache in front of the current exchange, on a caching route; else null. */
    private CacheFront cache;
    /** Body parts that came while the request waited to know its upstream ({@link #holdRequestBody}). */
    private ArrayDeque<HttpContent> heldBody;
    /**
     * The held body parts include the request's end: what the client sends next is another request, queued
     * behind this one as a pipelined request, never dispatched while this one waits.
     */
    private boolean heldEnd;
    private static final HttpResponseStatus CONNECT_ESTABLISHED = new HttpResponseStatus(200, "Connection established");
    private PipelinedRequests pipelined;
    /** Set once this connection's CONNECT was intercepted: its TLS ends here and its requests go to that tunnel. */
    private TlsInterception.Tunnel intercepted;
    private boolean inReadLoop;
    /** The connection is ending: anything read from now on is dropped, never routed or forwarded. */
    private boolean closing;
    ResponseWriter writer;
    private boolean pausedForUpstream;

    HttpProxyHandler(ListenerContext listener, ProxyResponseEncoder encoder, ListenerLimits limits) {
        this(listener, encoder, limits, null);
    }

    /** @param http2Client the HTTP/2 connection's client, for a handler that serves one of its streams; else null */
    HttpProxyHandler(ListenerContext listener, ResponseFraming encoder, ListenerLimits limits, ClientAddress http2Client) {
        this.listener = listener;
        this.encoder = encoder;
        this.limits = limits;
        this.http2 = http2Client != null;
        if (http2Client != null) {
            this.address = http2Client;
        }
        this.timer = new ConnectionTimer(this);
    }

    // ---- connection life cycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.pipelined = new PipelinedRequests(ctx.channel());
        this.decoder = ctx.pipeline().get(StrictRequestDecoder.class);
        this.writer = new ResponseWriter(ctx, encoder, listener, http2,
                () -> pipelined.isEmpty() && (decoder == null || !decoder.hasBufferedBytes()));
    }

    /** Removed when an HTTP/1 connection upgrades to h2c (only ever between requests). */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.stop();
        writer.abandonTransform();
        pipelined.releaseAll();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!http2) {
            address = ClientAddress.of(ctx.channel().remoteAddress());
        }
        pools = listener.pools().forLoop(ctx.channel().eventLoop());
        timer.awaitRequest(limits, true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.stop();
        Exchange ex = current;
        if (ex != null && !ex.responseComplete) {
            // The client went away before its response was complete: nginx's 499.
            if (!ex.responseStarted) {
                ex.status = 499;
            }
            handOverFill();
            abortLeg();
            finish(ex);
        }
        writer.abandonTransform();
        pipelined.releaseAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (http2 && Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // A malformed stream (RFC 9113 §8.1.1): the client's error, answered on the wire as HTTP/1's 400s are.
            // Passed on, so the stream channel resets the stream with the exception's error code.
            log.debug("listener {}: client {}:{}: HTTP/2 stream error: {}", listener.name(), address.ip(),
                    address.port(), cause.toString());
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (!(cause instanceof java.io.IOException)) {
            log.warn("listener {}: client {}:{}: {}", listener.name(), address.ip(), address.port(), cause.toString());
        }
        ctx.close();
    }

    /** Graceful drain: close now when idle, else after the response in progress. */
    void drain() {
        if (current == null) {
            // Close once what was written has left (a slow client may still be reading the last response).
            closeGracefully();
        } else {
            writer.closeAfterResponse(true);
        }
    }

    // ---- request direction ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        inReadLoop = true;
        timer.touch();
        accept(o);
    }

    /** A request part read now or replayed: handled at once, or queued behind the exchange in progress. */
    private void accept(HttpObject o) {
        if (closing) {
            ReferenceCountUtil.release(o);
        } else if (current != null && (current.requestComplete || heldEnd || !pipelined.isEmpty())) {
            pipelined.add(o);
        } else {
            dispatch(o);
        }
    }

    private void dispatch(HttpObject o) {
        if (o instanceof FullHttpRequest full) {
            // A whole request in one message (an HTTP/2 request without body, an aggregated h2c upgrade request
            // that did not upgrade, a decoder failure): handled as head, then last content, never as one object
            // (which the upstream leg would otherwise write twice).
            HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
            head.setDecoderResult(full.decoderResult());
            onRequestHead(head);
            onRequestContent(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
        } else if (o instanceof HttpRequest req) {
            onRequestHead(req);
            if (o instanceof HttpContent c) {
                onRequestContent(c);
            }
        } else if (o instanceof HttpContent c) {
            if (current == null) {
                c.release();
            } else {
                onRequestContent(c);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inReadLoop = false;
        if (leg != null) {
            leg.flush();
        }
        if (mirror != null) {
            mirror.flush();
        }
        flushIfNeeded();
        ctx.fireChannelReadComplete();
    }

    private void onRequestHead(HttpRequest req) {
        timer.headersReceived();
        ListenerRuntime runtime = listener.runtime();
        limits = runtime.limits();
        Exchange ex = new Exchange(this, req, System.nanoTime());
        current = ex;
        ex.upgrade = decoder != null && WebSocketUpgrade.isRequest(req);
        ex.path = "-";
        String id = req.headers().get(Headers.X_REQUEST_ID);
        ex.requestId = RequestIds.isWellFormed(id) ? id : RequestIds.generate();
        ex.clientKeepAlive = HttpUtil.isKeepAlive(req);
        if (runtime.config().protocol() == ListenerConfig.Protocol.SOCKS5) {
            // A reload turned this listener into a SOCKS5 proxy on the same socket; this connection came before.
            reply(ex, LocalReply.fatal(421, "this listener now serves SOCKS5; reconnect"));
            return;
        }
        ForwardRuntime forward = runtime.forward();
        if (forward == null && intercepted != null) {
            // a reload made this forward listener a reverse proxy; this connection's TLS is an interception's
            reply(ex, LocalReply.fatal(421, "this listener no longer serves as a forward proxy; reconnect"));
            return;
        }
        LocalReply problem = forward != null ? ForwardRequests.head(req, limits) : RequestChecks.head(ex, req, limits);
        if (problem != null) {
            listener.stats().requestRejected(problem.status());
            reply(ex, problem);
            return;
        }
        if (forward != null) {
            ForwardRequests.start(this, ex, forward);
            return;
        }
        CompiledRoute route = runtime.routes().match(ex.host, ex);
        if (route == null) {
            reply(ex, LocalReply.error(404, "no route matches this host and path"));
            return;
        }
        ex.route = route;
        ex.upstreamPath = ex.path;
        RouteGate gate = route.gate();
        if (gate != null && !admitted(ex, gate)) {
            return;
        }
        routeAction(ex);
    }

    /** The matched route's action: to its upstream (through its cache), a redirect, or its fixed answer. */
    private void routeAction(Exchange ex) {
        RouteTarget target = ex.route.target();
        if (target instanceof RouteTarget.ToUpstream u) {
            proxy(ex, u.upstream());
        } else if (target instanceof RouteTarget.Split s) {
            proxy(ex, s.choose());
        } else if (target instanceof RouteTarget.Redirect r) {
            reply(ex, LocalReply.redirect(r, ex));
        } else if (target instanceof RouteTarget.Respond r) {
            reply(ex, LocalReply.respond(r, ex));
        }
    }

    /**
     * The route's gateway checks ({@link RouteGate}): true to go on now; false when the request was answered here,
     * or waits for a verdict (a password checked off the event loop: the body is held meanwhile, and the request
     * goes on from {@link #onGateVerdict}).
     */
    private boolean admitted(Exchange ex, RouteGate gate) {
        GateDecision d = gate.check(ex);
        if (d == GateDecision.PASS) {
            return true;
        }
        if (d instanceof GateDecision.Pending p) {
            holdRequestBody();
            p.decision().whenComplete((verdict, err) -> {
                if (ctx.executor().inEventLoop()) {
                    onGateVerdict(ex, gate, verdict, err);
                } else {
                    ctx.executor().execute(() -> onGateVerdict(ex, gate, verdict, err));
                }
            });
            return false;
        }
        answerGate(ex, d);
        return false;
    }

    private void onGateVerdict(Exchange ex, RouteGate gate, GateDecision verdict, Throwable err) {
        if (current != ex) {
            return; // the client went away meanwhile
        }
        GateDecision d = verdict;
        if (err != null) {
            log.error("listener {}: route {}: the gateway checks failed unexpectedly (request id {})", listener.name(),
                    ex.route.name(), ex.requestId, err);
            d = new GateDecision.Refuse("auth", LocalReply.jsonError(500, "the request could not be checked"));
        }
        if (d == GateDecision.PASS) {
            resumeHeld(ex, () -> routeAction(ex));
            return;
        }
        releaseHeldRequestBody();
        answerGate(ex, d);
    }

    private void answerGate(Exchange ex, GateDecision d) {
        if (d instanceof GateDecision.Refuse r) {
            listener.stats().requestRejected(r.reply().status());
            ex.route.gate().stats().rejected(r.reason());
            reply(ex, r.reply());
        } else if (d instanceof GateDecision.Preflight p) {
            reply(ex, p.reply());
        } else {
            throw new IllegalStateException("unexpected gate decision " + d);
        }
    }

    private void proxy(Exchange ex, Upstream upstream) {
        ex.upstream = upstream;
        HttpRequest req = ex.request;
        HttpHeaders h = req.headers();
        long length = HttpUtil.getContentLength(req, -1L);
        if (length > limits.maxBodySize()) {
            listener.stats().requestRejected(413);
            reply(ex, LocalReply.fatal(413, "request body of " + length + " bytes is over the limit of "
                    + limits.maxBodySize() + " bytes"));
            return;
        }
        String expect = h.get(HttpHeaderNames.EXPECT);
        if (expect != null) {
            if (!HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
                reply(ex, LocalReply.fatal(417, "only 'Expect: 100-continue' is supported"));
                return;
            }
            // As nginx: we answer 100 Continue ourselves once the request is accepted, and do not pass the
            // expectation on (the body is streamed to the upstream as it arrives).
            h.remove(HttpHeaderNames.EXPECT);
            if (req.protocolVersion() == HttpVersion.HTTP_1_1) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
            }
        }
        RouteCache rc = ex.route.cache();
        if (rc != null && CacheFront.applies(ex)) {
            // Looked up once the request is complete (at once for a GET: its end comes in the same read), so a
            // hit never answers before the request ended, which would cost the connection its keep-alive.
            cache = new CacheFront(this, ex, upstream, rc);
            if (ex.requestComplete) {
                cache.start();
            }
            return;
        }
        forward(ex, upstream);
    }

    /**
     * The cache sends the request upstream after its lookup (a miss, or a stored response that may not answer):
     * the request (without a body: see {@link CacheFront#applies}) ended already, so its end goes too.
     */
    void forwardFromCache(Exchange ex, Upstream upstream) {
        forward(ex, upstream);
        if (mirror != null) {
            mirror.tee(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        if (leg != null) {
            leg.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!inReadLoop) {
                leg.flush();
            }
        }
    }

    /**
     * The request waits for something before it can go upstream (a forward proxy's DNS lookup): its body parts are
     * held, and reading pauses so no more than one read's worth is held.
     */
    void holdRequestBody() {
        if (heldBody == null) {
            heldBody = new ArrayDeque<>(4);
            pauseClientReads();
        }
    }

    /** The held body parts are not wanted (the request was answered without going upstream). */
    void releaseHeldRequestBody() {
        ArrayDeque<HttpContent> held = heldBody;
        heldBody = null;
        if (held != null) {
            if (heldEnd && current != null) {
                // it was read to its end: the exchange may finish and the connection serve the next request
                current.requestComplete = true;
            }
            heldEnd = false;
            held.forEach(HttpContent::release);
            resumeClientReads();
        }
    }

    /** A forward proxy's request goes to {@code upstream} (an origin): as a route's would, then its held body. */
    void forwardTo(Exchange ex, Upstream upstream) {
        resumeHeld(ex, () -> proxy(ex, upstream));
    }

    /** The request knows where it goes now: {@code action} starts it, then its held body parts follow. */
    private void resumeHeld(Exchange ex, Runnable action) {
        ArrayDeque<HttpContent> held = heldBody;
        heldBody = null;
        heldEnd = false; // the end is replayed below and sets requestComplete
        action.run();
        if (held != null) {
            HttpContent c;
            while ((c = held.poll()) != null) {
                if (current == ex) {
                    onRequestContent(c);
                } else {
                    c.release();
                }
            }
            resumeClientReads();
            if (leg != null && !inReadLoop) {
                leg.flush();
            }
        }
    }

    /**
     * A CONNECT tunnel's upstream connection is up: {@code 200 Connection established} goes to the client and both
     * connections become an {@link UpgradeTunnel}.
     */
    void onConnectEstablished(Exchange ex, Channel upstream) {
        timer.stop(); // the tunnel has its own idle timer
        ex.responseStarted = true;
        ex.status = 200;
        encoder.headResponse(false);
        ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, CONNECT_ESTABLISHED, Unpooled.EMPTY_BUFFER,
                EmptyHttpHeaders.INSTANCE, EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
        UpgradeTunnel.start(this, ex, upstream, () -> { }, limits.idleTimeout().toNanos());
    }

    /**
     * An intercepted CONNECT ({@link TlsInterception}): {@code 200 Connection established}, then this connection
     * speaks TLS with the proxy itself ({@code installTls} puts the handshake handlers first in the pipeline) and
     * its requests are read as HTTP again, each for the tunnel's origin. Bytes the client sent right after the
     * CONNECT (an eager ClientHello) were held by the decoder: they are taken out and go through TLS first.
     */
    void interceptConnect(Exchange ex, TlsInterception.Tunnel tunnel,
                          java.util.function.Consumer<io.netty.channel.ChannelPipeline> installTls) {
        ex.responseStarted = true;
        ex.responseComplete = true;
        ex.status = 200;
        encoder.headResponse(false);
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, CONNECT_ESTABLISHED, Unpooled.EMPTY_BUFFER,
                EmptyHttpHeaders.INSTANCE, EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
        intercepted = tunnel;
        io.netty.buffer.ByteBuf early = decoder == null ? null : decoder.takeHeld();
        try {
            installTls.accept(ctx.pipeline());
            finish(ex); // the decoder resumes in a task of its own: by then it sees only what TLS decrypted
        } catch (RuntimeException e) {
            if (early != null) {
                early.release();
            }
            throw e;
        }
        if (early != null) {
            // Only a ClientHello can be here (the client has not seen the 200): nothing reaches the decoder from it.
            ctx.pipeline().fireChannelRead(early);
            ctx.pipeline().fireChannelReadComplete();
        }
    }

    /** The tunnel this connection's requests go to since its CONNECT was intercepted; null otherwise. */
    TlsInterception.Tunnel intercepted() {
        return intercepted;
    }

    /** Route filters, then the upstream leg (and the mirror copy). */
    private void forward(Exchange ex, Upstream upstream) {
        UpstreamRequest.prepare(ex);
        FilterStatus status = ex.route.filters().onRequest(ex);
        if (status instanceof FilterStatus.Respond r) {
            reply(ex, r.reply());
            return;
        }
        UpstreamRequest.target(ex);
        if (!ex.upgrade && mirror == null) {
            // a WebSocket is not mirrored (its bytes are not a request), nor a request the cache sends again
            mirror = MirrorLeg.maybeStart(this, ex);
        }
        leg = new UpstreamLeg(this, ex, upstream);
        leg.start();
    }

    private void onRequestContent(HttpContent c) {
        Exchange ex = current;
        if (ex == null) {
            // The head was refused and answered already (e.g. a decoder failure, which Netty delivers as one
            // full message): nothing left to do with its content.
            c.release();
            return;
        }
        if (heldBody != null) {
            heldBody.add(c); // replayed once the request knows where it goes
            heldEnd |= c instanceof LastHttpContent;
            return;
        }
        if (c.decoderResult().isFailure()) {
            c.release();
            listener.stats().requestRejected(400);
            failExchange(ex, LocalReply.fatal(400, "malformed request body: "
                    + RequestChecks.describe(c.decoderResult().cause())));
            return;
        }
        ex.requestBodyBytes += c.content().readableBytes();
        if (ex.requestBodyBytes > limits.maxBodySize()) {
            c.release();
            listener.stats().requestRejected(413);
            failExchange(ex, LocalReply.fatal(413, "request body is over the limit of " + limits.maxBodySize()
                    + " bytes"));
            return;
        }
        if (mirror != null) {
            mirror.tee(c); // before the chunk is handed on (and maybe released)
        }
        boolean last = c instanceof LastHttpContent;
        if (last) {
            ex.requestComplete = true;
        }
        if (leg != null && !ex.discardBody) {
            leg.sendBody(c);
        } else {
            c.release();
        }
        if (last && cache != null && !cache.started() && !ex.responseStarted) {
            cache.start();
        }
        if (last && ex.responseComplete) {
            finish(ex);
        }
    }

    /** Stops reading and closes once everything written so far is flushed. */
    private void closeGracefully() {
        stopReading();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void stopReading() {
        closing = true;
        ctx.channel().config().setAutoRead(false);
    }

    /** A problem with the request after it may have gone upstream: answer if we still can, else cut. */
    void failExchange(Exchange ex, LocalReply reply) {
        abortLeg();
        if (ex.responseStarted) {
            ex.discardBody = true;
            stopReading();
            ctx.close();
        } else {
            reply(ex, reply);
        }
    }

    // ---- response direction ----

    /** Writes a proxy-made response for the current exchange. */
    void reply(Exchange ex, LocalReply reply) {
        ex.discardBody = true;
        // A fatal reply closes anyway; test it first, as its request may carry an unparsable Content-Length.
        if (reply.closeConnection() || (!ex.requestComplete && (HttpUtil.isTransferEncodingChunked(ex.request)
                || HttpUtil.getContentLength(ex.request, 0L) > 0))) {
            writer.closeAfterResponse(true);
        }
        writer.local(ex, reply);
        if (ex.requestComplete || writer.closeAfterResponse()) {
            finish(ex);
        }
    }

    /** The upstream's response head, hop-by-hop headers already gone. */
    void onResponseHead(Exchange ex, HttpResponse res, boolean lengthUnknown) {
        if (cache != null) {
            if (cache.onUpstreamHead(res)) {
                return; // the cache's own (a revalidation's 304, an error it answers with a stale response)
            }
        } else if (!Invalidation.isSafe(ex.request.method().name())) {
            // in every cache of the listener, not only the route's own: writes often take another route than reads
            String host = ex.request.headers().get(HttpHeaderNames.HOST);
            for (RouteCache rc : listener.runtime().caches()) {
                rc.invalidateAfter(ex.request.method().name(), res.status().code(), ex.scheme(),
                        host != null ? host : ex.host, ex.rawUri, res.headers());
            }
        }
        writer.head(ex, res, lengthUnknown);
    }

    /**
     * The upstream accepted the WebSocket upgrade: the 101 goes to the client and both connections become an
     * {@link UpgradeTunnel}. This handler leaves the pipeline; the exchange stays current until the tunnel ends.
     *
     * @param release gives back the upstream's slots when the tunnel ends
     */
    void onSwitchingProtocols(Exchange ex, HttpResponse res, Channel upstream, Runnable release) {
        leg = null;
        timer.stop(); // the tunnel has its own idle timer; the route timeout ended with the 101
        ex.responseStarted = true;
        ex.status = 101;
        HttpHeaders h = res.headers();
        Headers.removeHopByHop(h);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        ex.route.filters().onResponse(ex, res);
        WebSocketUpgrade.setResponseHeaders(h);
        encoder.headResponse(false);
        ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), Unpooled.EMPTY_BUFFER, h,
                EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
        listener.stats().webSocketOpened();
        UpgradeTunnel.start(this, ex, upstream, release, limits.idleTimeout().toNanos());
    }

    /** The tunnel of {@code ex} closed: the exchange is logged and counted once, with the bytes of each way. */
    void tunnelEnded(Exchange ex, long fromClient, long toClient) {
        ex.requestBodyBytes = fromClient;
        ex.bytesSent = toClient;
        ex.responseComplete = true;
        if (ex.connectTunnel && ex.route.target() instanceof RouteTarget.Forward f) {
            f.runtime().stats().tunnelClosed(fromClient, toClient);
        } else {
            listener.stats().webSocketClosed(fromClient, toClient);
        }
        if (current == ex) {
            current = null;
            record(ex, System.nanoTime());
        }
        pipelined.releaseAll();
    }

    void onInformational(Exchange ex, HttpResponse res) {
        writer.informational(ex, res);
    }

    /** @return false when the client cannot take more now (the caller pauses the upstream) */
    boolean onResponseContent(Exchange ex, HttpContent c) {
        if (cache != null && cache.ownsUpstreamResponse()) {
            boolean last = c instanceof LastHttpContent;
            c.release();
            timer.touch();
            if (last) {
                leg = null;
                cache.onUpstreamEnd(); // the stored response answers now (or the request goes again)
            }
            return true;
        }
        if (cache != null) {
            cache.onUpstreamContent(c); // copies what it stores: before the writer (and a compressor) consumes c
        }
        timer.touch();
        if (c instanceof LastHttpContent last) {
            ex.responseComplete = true;
            leg = null;
            writer.lastContent(ex, last);
            if (ex.requestComplete || writer.closeAfterResponse()) {
                finish(ex);
            }
            return true;
        }
        return writer.content(ex, c);
    }

    void flushIfNeeded() {
        writer.flushIfNeeded();
    }

    /** The upstream failed before any response byte: answer with the mapped status. */
    void onUpstreamFailure(Exchange ex, int status, String message) {
        leg = null;
        if (staleAnswers(ex, status)) {
            return;
        }
        if (cache != null && cache.revalidationMustFail()) {
            status = 504;
        }
        abortCache();
        if (ex != current || ex.responseStarted) {
            return;
        }
        log.warn("listener {}: route {}: upstream {}: {} (request id {})", listener.name(), ex.route.name(),
                ex.endpoint == null ? ex.route.upstreamName() : ex.endpoint, message, ex.requestId);
        reply(ex, LocalReply.error(status, ex.viaParent == null ? message : ex.viaParent + ": " + message));
    }

    /**
     * The upstream side refused the request (circuit breaker at a limit, before a try): answer at once. Not logged
     * per request, as refusals come in floods exactly when the upstream is overloaded; a metric counts them.
     */
    void onUpstreamRefused(Exchange ex, LocalReply reply) {
        leg = null;
        if (staleAnswers(ex, reply.status())) {
            return;
        }
        abortCache();
        if (ex != current || ex.responseStarted) {
            return;
        }
        reply(ex, reply);
    }

    /** A stored response being revalidated answers instead of the failure, within its stale-if-error window. */
    private boolean staleAnswers(Exchange ex, int status) {
        return cache != null && ex == current && !ex.responseStarted && cache.serveStaleOnFailure(status);
    }

    /** The upstream broke after the response head went out: the client sees the connection end. */
    void onUpstreamBrokeMidResponse(Exchange ex, String message) {
        leg = null;
        if (cache != null && cache.ownsUpstreamResponse() && ex == current && !ex.responseStarted) {
            // the broken response was the cache's own (a revalidation's 304, an error answered from the store):
            // the client has seen nothing yet
            if (cache.answerWithoutUpstreamEnd()) {
                return;
            }
            abortCache();
            reply(ex, LocalReply.error(502, message));
            return;
        }
        abortCache();
        log.warn("listener {}: route {}: upstream {}: {} after the response started; {} (request id {})",
                listener.name(), ex.route.name(), ex.endpoint, message,
                http2 ? "resetting the client's HTTP/2 stream" : "closing the client connection", ex.requestId);
        flushIfNeeded();
        ctx.close();
    }

    // ---- backpressure ----

    /** The upstream's socket buffer is full: stop reading the client's request body for now. */
    void pauseClientReads() {
        pausedForUpstream = true;
        ctx.channel().config().setAutoRead(false);
    }

    void resumeClientReads() {
        if (pausedForUpstream) {
            pausedForUpstream = false;
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (leg != null) {
            leg.clientWritabilityChanged(ctx.channel().isWritable());
        }
        if (cache != null && ctx.channel().isWritable()) {
            cache.writable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    boolean inReadLoop() {
        return inReadLoop;
    }

    // ---- end of an exchange ----

    private void finish(Exchange ex) {
        if (current != ex) {
            return;
        }
        if (!ex.responseComplete) {
            writer.abandonTransform(); // the body ended early: the encoder's native memory goes now, not at GC
        }
        current = null;
        leg = null;
        releaseHeldRequestBody(); // the client left (or the request was answered) while it waited
        endMirror();
        abortCache(); // a no-op after a complete response: the fill completed and the delivery ended
        record(ex, System.nanoTime());
        if ((ex.upgrade || HttpMethod.CONNECT.equals(ex.request.method())) && decoder != null && decoder.held()) {
            // The upgrade did not happen: what the client sent after it is HTTP again (decoded in a task of its
            // own, never inside the read that ended this exchange).
            ctx.executor().execute(this::resumeDecoder);
        }
        if (http2) {
            // One request per stream: the stream ends with this response (or is reset by the writer).
            closing = true;
            timer.stop();
            return;
        }
        if (writer.closeAfterResponse() || !ctx.channel().isActive()) {
            // Keep reading, but only to drop it, while the response's lingering close runs.
            closing = true;
            pausedForUpstream = false;
            ctx.channel().config().setAutoRead(true);
            pipelined.releaseAll();
            return;
        }
        // Reads may have been paused for the upstream's sake when the exchange ended: this connection reads
        // again for its next request.
        resumeClientReads();
        timer.awaitRequest(limits, false);
        if (!pipelined.isEmpty()) {
            // Replayed as a new task, after the upstream read that ended this exchange is fully processed,
            // so a pooled connection is never reused while its decoder still holds bytes.
            ctx.executor().execute(this::replayPipelined);
        }
    }

    /** Metrics and the access log line of a finished exchange. */
    private void record(Exchange ex, long end) {
        if (ex.route != null) {
            ex.route.statsFor(ex.upstream).record(ex.status, end - ex.startNanos);
        }
        if (ex.endpoint != null) {
            ex.endpoint.stats().record(ex.status, end - ex.startNanos);
        }
        if (ex.consumer() != null && ex.route != null && ex.route.gate() != null) {
            ex.route.gate().stats().consumerRequest(ex.consumer().name(), ex.status, end - ex.startNanos);
        }
        AccessLog accessLog = listener.accessLog();
        if (accessLog.enabled()) {
            accessLog.log(ex.toLogEntry(listener.name(), end));
        }
    }

    private void resumeDecoder() {
        try {
            ChannelHandlerContext decoderCtx = ctx.pipeline().context(decoder);
            if (decoderCtx != null) {
                decoder.resume(decoderCtx);
            }
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        }
    }

    private void replayPipelined() {
        if (closing || !ctx.channel().isActive()) {
            pipelined.releaseAll();
            return;
        }
        ArrayDeque<HttpObject> queued = pipelined.takeAll();
        HttpObject o;
        while ((o = queued.poll()) != null) {
            accept(o);
        }
        if (leg != null) {
            leg.flush();
        }
        flushIfNeeded();
    }

    /**
     * The client left while its response streams into the cache: the upstream body goes on into the store for the
     * requests that follow it ({@link OrphanFill}); this exchange lets go of both.
     */
    private void handOverFill() {
        UpstreamLeg l = leg;
        CacheFront c = cache;
        if (l == null || c == null) {
            return;
        }
        var fill = c.storingFill();
        if (fill != null && l.handOver(fill)) {
            leg = null;
            c.releaseFill();
        }
    }

    void abortLeg() {
        UpstreamLeg l = leg;
        leg = null;
        if (l != null) {
            l.abort();
        }
        endMirror();
        abortCache();
    }

    private void abortCache() {
        CacheFront c = cache;
        if (c != null) {
            cache = null;
            c.abort();
        }
    }

    /** The mirror copy goes on alone if it has the whole request; else it is dropped. */
    private void endMirror() {
        MirrorLeg m = mirror;
        mirror = null;
        if (m != null) {
            m.exchangeEnded();
        }
    }

    /** As {@link #abortLeg()}, for the route or idle timeout: the endpoint that owed a response counts a failure. */
    void timeoutLeg() {
        UpstreamLeg l = leg;
        leg = null;
        if (l != null) {
            l.timedOut();
        }
        if (cache == null || !cache.holdsStaleResponse()) {
            abortCache(); // else the failure that follows may still be answered with it (stale-if-error)
        }
    }

    Exchange current() {
        return current;
    }

    ListenerContext listener() {
        return listener;
    }
}
