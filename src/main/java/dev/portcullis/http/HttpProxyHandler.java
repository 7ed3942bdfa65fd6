package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.upstream.pool.UpstreamPools;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP listener: reads requests, routes them, answers locally or hands them to an
 * {@link UpstreamLeg}, and writes responses back. One exchange at a time; pipelined requests wait in a small
 * queue. Writes are flushed once per read batch (ours for the request direction, the upstream's for the
 * response direction), and each direction stops reading while the other side cannot take more.
 */
public final class HttpProxyHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(HttpProxyHandler.class);
    private static final int MAX_PIPELINED = 32;

    private final ListenerContext listener;
    private final StrictRequestDecoder decoder;
    private final ProxyResponseEncoder encoder;
    final ConnectionTimer timer;
    ChannelHandlerContext ctx;
    UpstreamPools pools;
    String clientIp = "-";
    String forwardedFor = "unknown";
    int clientPort;
    byte[] clientAddressBytes = new byte[0];
    private ListenerLimits limits;
    private Exchange current;
    private UpstreamLeg leg;
    private ArrayDeque<HttpObject> pipelined;
    private boolean inReadLoop;
    private boolean unflushed;
    private boolean closeAfterResponse;
    private boolean pausedForUpstream;

    HttpProxyHandler(ListenerContext listener, StrictRequestDecoder decoder, ProxyResponseEncoder encoder,
                     ListenerLimits limits) {
        this.listener = listener;
        this.decoder = decoder;
        this.encoder = encoder;
        this.limits = limits;
        this.timer = new ConnectionTimer(this);
    }

    // ---- connection life cycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) {
            clientIp = a.getAddress().getHostAddress();
            clientPort = a.getPort();
            clientAddressBytes = a.getAddress().getAddress();
            forwardedFor = a.getAddress() instanceof Inet6Address ? "\"[" + clientIp + "]\"" : clientIp;
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
            abortLeg();
            finish(ex);
        }
        releasePipelined();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof java.io.IOException)) {
            log.warn("listener {}: client {}:{}: {}", listener.name(), clientIp, clientPort, cause.toString());
        }
        ctx.close();
    }

    /** Graceful drain: close now when idle, else after the response in progress. */
    void drain() {
        if (current == null) {
            ctx.close();
        } else {
            closeAfterResponse = true;
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
        if (current != null && (current.requestComplete || pipelined != null)) {
            queuePipelined(o);
            return;
        }
        dispatch(o);
    }

    private void dispatch(HttpObject o) {
        if (o instanceof HttpRequest req) {
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
        flushIfNeeded();
        ctx.fireChannelReadComplete();
    }

    private void queuePipelined(HttpObject o) {
        if (pipelined == null) {
            pipelined = new ArrayDeque<>();
        }
        pipelined.add(o);
        if (pipelined.size() >= MAX_PIPELINED) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    private void releasePipelined() {
        if (pipelined != null) {
            pipelined.forEach(ReferenceCountUtil::release);
            pipelined = null;
        }
    }

    private void onRequestHead(HttpRequest req) {
        timer.headersReceived();
        ListenerRuntime runtime = listener.runtime();
        limits = runtime.limits();
        Exchange ex = new Exchange(this, req, System.nanoTime());
        current = ex;
        ex.path = "-";
        String id = req.headers().get(Headers.X_REQUEST_ID);
        ex.requestId = RequestIds.isWellFormed(id) ? id : RequestIds.generate();
        ex.clientKeepAlive = HttpUtil.isKeepAlive(req);
        LocalReply problem = RequestChecks.decoderFailure(req.decoderResult(), limits.maxRequestLine(),
                limits.maxHeaderSize());
        if (problem == null && decoder.takeObsFold()) {
            problem = LocalReply.fatal(400, "obsolete line folding (obs-fold) in a header is not accepted");
        }
        if (problem == null) {
            problem = RequestChecks.check(ex, req);
        }
        if (problem != null) {
            listener.stats().requestRejected(problem.status());
            reply(ex, problem);
            return;
        }
        CompiledRoute route = runtime.routes().match(ex.host, ex);
        if (route == null) {
            reply(ex, LocalReply.error(404, "no route matches this host and path"));
            return;
        }
        ex.route = route;
        ex.upstreamPath = ex.path;
        RouteTarget target = route.target();
        if (target instanceof RouteTarget.ToUpstream u) {
            proxy(ex, u);
        } else if (target instanceof RouteTarget.Redirect r) {
            HttpHeaders h = new DefaultHttpHeaders();
            h.set(HttpHeaderNames.LOCATION, r.to().render(ex));
            reply(ex, LocalReply.of(r.status(), new byte[0], h));
        } else if (target instanceof RouteTarget.Respond r) {
            HttpHeaders h = new DefaultHttpHeaders();
            for (int i = 0; i < r.headerNames().length; i++) {
                h.add(r.headerNames()[i], r.headerValues()[i].render(ex));
            }
            reply(ex, LocalReply.of(r.status(), r.body(), h));
        }
    }

    private void proxy(Exchange ex, RouteTarget.ToUpstream target) {
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
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        Headers.removeHopByHop(h);
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        ForwardedHeaders.apply(ex, h);
        FilterStatus status = ex.route.filters().onRequest(ex);
        if (status instanceof FilterStatus.Respond r) {
            reply(ex, r.reply());
            return;
        }
        req.setUri(ex.query == null ? ex.upstreamPath : ex.upstreamPath + '?' + ex.query);
        leg = new UpstreamLeg(this, ex, target.upstream());
        leg.start();
    }

    private void onRequestContent(HttpContent c) {
        Exchange ex = current;
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
        boolean last = c instanceof LastHttpContent;
        if (last) {
            ex.requestComplete = true;
        }
        if (leg != null && !ex.discardBody) {
            leg.sendBody(c);
        } else {
            c.release();
        }
        if (last && ex.responseComplete) {
            finish(ex);
        }
    }

    /** A problem with the request after it may have gone upstream: answer if we still can, else cut. */
    private void failExchange(Exchange ex, LocalReply reply) {
        abortLeg();
        if (ex.responseStarted) {
            ex.discardBody = true;
            ctx.close();
        } else {
            reply(ex, reply);
        }
    }

    // ---- response direction ----

    /** Writes a proxy-made response for the current exchange. */
    void reply(Exchange ex, LocalReply reply) {
        ex.discardBody = true;
        ex.responseStarted = true;
        ex.status = reply.status();
        boolean bodyExpected = HttpUtil.isTransferEncodingChunked(ex.request)
                || HttpUtil.getContentLength(ex.request, 0L) > 0;
        if (reply.closeConnection() || (bodyExpected && !ex.requestComplete)) {
            closeAfterResponse = true;
        }
        String accept = ex.request.headers().get(HttpHeaderNames.ACCEPT);
        boolean json = accept != null && accept.contains("json");
        HttpResponse res = reply.toResponse(ctx.alloc(), HttpVersion.HTTP_1_1, ex.requestId, json);
        if (ex.route != null) {
            ex.route.filters().onResponse(ex, res);
        }
        ex.bytesSent = ((DefaultFullHttpResponse) res).content().readableBytes();
        writeHeadConnectionHeaders(ex, res);
        encoder.headResponse(ex.head);
        ex.responseComplete = true;
        writeLast(res);
        if (ex.requestComplete || closeAfterResponse) {
            finish(ex);
        }
    }

    private void writeHeadConnectionHeaders(Exchange ex, HttpResponse res) {
        boolean keepAlive = ex.clientKeepAlive && !closeAfterResponse && !listener.draining();
        if (!keepAlive) {
            closeAfterResponse = true;
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (ex.clientVersion == HttpVersion.HTTP_1_0) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    /** The upstream's response head, hop-by-hop headers already gone. */
    void onResponseHead(Exchange ex, HttpResponse res, boolean bodyUnframed) {
        ex.responseStarted = true;
        ex.status = res.status().code();
        boolean http10 = ex.clientVersion == HttpVersion.HTTP_1_0;
        if (bodyUnframed) {
            if (http10) {
                closeAfterResponse = true;
            } else {
                res.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        if (!ex.requestComplete) {
            // The upstream answered before the whole request arrived; the rest of it cannot be trusted to
            // stop at a message boundary we would see, so this connection ends with the response.
            closeAfterResponse = true;
        }
        ex.route.filters().onResponse(ex, res);
        writeHeadConnectionHeaders(ex, res);
        res.setProtocolVersion(HttpVersion.HTTP_1_1);
        encoder.headResponse(ex.head);
        ctx.write(res, ctx.voidPromise());
        unflushed = true;
    }

    /** 1xx other than 100 and 101 (e.g. 103 Early Hints): passed on to HTTP/1.1 clients. */
    void onInformational(Exchange ex, HttpResponse res) {
        if (ex.clientVersion == HttpVersion.HTTP_1_1) {
            Headers.removeHopByHop(res.headers());
            encoder.headResponse(false);
            ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), ctx.alloc().buffer(0),
                    res.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
            unflushed = true;
        }
    }

    /** @return false when the client cannot take more now (the caller pauses the upstream) */
    boolean onResponseContent(Exchange ex, HttpContent c) {
        ex.bytesSent += c.content().readableBytes();
        timer.touch();
        if (c instanceof LastHttpContent) {
            ex.responseComplete = true;
            leg = null;
            writeLast(c);
            if (ex.requestComplete) {
                finish(ex);
            } else if (closeAfterResponse) {
                finish(ex);
            }
            return true;
        }
        ctx.write(c, ctx.voidPromise());
        unflushed = true;
        return ctx.channel().isWritable();
    }

    private void writeLast(Object msg) {
        unflushed = false;
        if (closeAfterResponse) {
            ctx.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(msg, ctx.voidPromise());
        }
    }

    void flushIfNeeded() {
        if (unflushed) {
            unflushed = false;
            ctx.flush();
        }
    }

    /** The upstream failed before any response byte: answer with the mapped status. */
    void onUpstreamFailure(Exchange ex, int status, String message) {
        leg = null;
        if (ex != current || ex.responseStarted) {
            return;
        }
        log.warn("listener {}: route {}: upstream {}: {} (request id {})", listener.name(), ex.route.name(),
                ex.endpoint == null ? ex.route.upstreamName() : ex.endpoint, message, ex.requestId);
        reply(ex, LocalReply.error(status, message));
    }

    /** The upstream broke after the response head went out: the client sees the connection end. */
    void onUpstreamBrokeMidResponse(Exchange ex, String message) {
        leg = null;
        log.warn("listener {}: route {}: upstream {}: {} after the response started; closing the client "
                + "connection (request id {})", listener.name(), ex.route.name(), ex.endpoint, message, ex.requestId);
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
        current = null;
        leg = null;
        long end = System.nanoTime();
        if (ex.route != null) {
            ex.route.stats().record(ex.status, end - ex.startNanos);
        }
        listener.accessLog().log(ex.toLogEntry(listener.name(), end));
        if (closeAfterResponse || !ctx.channel().isActive()) {
            releasePipelined();
            return;
        }
        timer.awaitRequest(limits, false);
        if (pipelined != null) {
            ArrayDeque<HttpObject> queued = pipelined;
            pipelined = null;
            ctx.channel().config().setAutoRead(true);
            HttpObject o;
            while ((o = queued.poll()) != null) {
                if (current != null && (current.requestComplete || pipelined != null)) {
                    queuePipelined(o);
                } else {
                    dispatch(o);
                }
            }
            if (leg != null) {
                leg.flush();
            }
            flushIfNeeded();
        }
    }

    private void abortLeg() {
        UpstreamLeg l = leg;
        leg = null;
        if (l != null) {
            l.abort();
        }
    }

    // ---- timeouts (ConnectionTimer calls these) ----

    void onHeaderTimeout() {
        listener.stats().requestRejected(408);
        if (current == null) {
            // No request head within header_read_timeout: answer 408 and close, as HAProxy does.
            ctx.writeAndFlush(requestTimeoutResponse()).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    private HttpResponse requestTimeoutResponse() {
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_TIMEOUT, ctx.alloc().buffer(0));
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        encoder.headResponse(false);
        return res;
    }

    void onIdleTimeout() {
        Exchange ex = current;
        if (ex == null) {
            ctx.close();
            return;
        }
        if (!ex.requestComplete && !ex.responseStarted) {
            listener.stats().requestRejected(408);
            failExchange(ex, LocalReply.fatal(408, "the request body stalled for longer than idle_timeout"));
        } else if (!ex.responseStarted) {
            abortLeg();
            ex.endpoint.stats().failure();
            closeAfterResponse = true;
            onUpstreamFailure(ex, 504, "no response within idle_timeout (" + limits.idleTimeout().toMillis()
                    + " ms)");
        } else {
            abortLeg();
            ctx.close();
        }
    }

    void onRouteTimeout() {
        Exchange ex = current;
        if (ex == null || ex.responseComplete) {
            return;
        }
        abortLeg();
        if (!ex.responseStarted) {
            if (ex.endpoint != null) {
                ex.endpoint.stats().failure();
            }
            closeAfterResponse = !ex.requestComplete;
            onUpstreamFailure(ex, 504, "no complete response within the route timeout of "
                    + ex.route.timeoutNanos() / 1_000_000 + " ms");
        } else {
            ctx.close();
        }
    }

    Exchange current() {
        return current;
    }

    ListenerContext listener() {
        return listener;
    }
}
