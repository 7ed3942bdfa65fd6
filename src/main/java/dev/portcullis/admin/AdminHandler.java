package dev.portcullis.admin;

import static dev.portcullis.admin.AdminResponses.error;
import static dev.portcullis.admin.AdminResponses.json;
import static dev.portcullis.admin.AdminResponses.text;

import dev.portcullis.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Checks the token and dispatches the admin API's requests. Stateless; one instance serves every connection. */
@Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
    private static final String GET_HEAD = "GET, HEAD";
    private static final Pattern DRAIN = Pattern.compile("/api/v1/upstreams/([^/]+)/endpoints/([^/]+)/drain");

    private final AdminContext context;
    /** SHA-256 of the token, or null when none is required. */
    private final byte[] tokenDigest;
    private final Executor reloadExecutor;
    private final byte[] dashboard;

    AdminHandler(AdminContext context, String token, Executor reloadExecutor) {
        this.context = context;
        this.tokenDigest = token == null || token.isEmpty() ? null : sha256(token);
        this.reloadExecutor = reloadExecutor;
        this.dashboard = DashboardPage.load();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            send(ctx, error(HttpResponseStatus.BAD_REQUEST, "malformed request"), false);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        HttpMethod method = req.method();
        boolean read = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        boolean open = read && (path.equals("/") || path.equals("/healthz"));
        if (!open && !authorized(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse r = error(HttpResponseStatus.UNAUTHORIZED,
                    "this admin API needs \"Authorization: Bearer <admin.token>\"");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"portcullis-admin\"");
            send(ctx, r, keepAlive);
            return;
        }
        try {
            dispatch(ctx, path, method, read, keepAlive, req.content().toString(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            LOG.warn("admin API: {} {} failed", method, path, e);
            send(ctx, error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e), keepAlive);
        }
    }

    private void dispatch(ChannelHandlerContext ctx, String path, HttpMethod method, boolean read, boolean keepAlive,
                          String body) {
        switch (path) {
            case "/" -> get(ctx, read, keepAlive, () -> dashboardResponse());
            case "/healthz" -> get(ctx, read, keepAlive, () -> text(HttpResponseStatus.OK, "ok\n"));
            case "/readyz" -> get(ctx, read, keepAlive, () -> context.ready()
                    ? text(HttpResponseStatus.OK, "ready\n")
                    : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n"));
            case "/metrics" -> get(ctx, read, keepAlive, () -> metrics(ctx));
            case "/api/v1/config" -> get(ctx, read, keepAlive, () -> {
                Map<String, Object> raw = context.rawConfig();
                return json(HttpResponseStatus.OK, SecretMasker.mask(raw == null ? Map.of() : raw));
            });
            case "/api/v1/upstreams" -> get(ctx, read, keepAlive,
                    () -> json(HttpResponseStatus.OK, AdminResponses.upstreams(context.upstreams())));
            case "/api/v1/reload" -> {
                if (method.equals(HttpMethod.POST)) {
                    reload(ctx, keepAlive);
                } else {
                    methodNotAllowed(ctx, "POST", keepAlive);
                }
            }
            case "/api/v1/cache/purge" -> {
                if (method.equals(HttpMethod.POST)) {
                    purge(ctx, body, keepAlive);
                } else {
                    methodNotAllowed(ctx, "POST", keepAlive);
                }
            }
            default -> {
                java.util.regex.Matcher m = DRAIN.matcher(path);
                if (m.matches()) {
                    drain(ctx, method, m.group(1), m.group(2), keepAlive);
                } else {
                    send(ctx, error(HttpResponseStatus.NOT_FOUND, "no admin endpoint at " + path), keepAlive);
                }
            }
        }
    }

    private interface Response {
        FullHttpResponse make();
    }

    private void get(ChannelHandlerContext ctx, boolean read, boolean keepAlive, Response response) {
        if (read) {
            send(ctx, response.make(), keepAlive);
        } else {
            methodNotAllowed(ctx, GET_HEAD, keepAlive);
        }
    }

    private void purge(ChannelHandlerContext ctx, String body, boolean keepAlive) {
        PurgeRequest request;
        try {
            request = PurgeRequest.parse(body);
        } catch (IllegalArgumentException e) {
            send(ctx, error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
            return;
        }
        int purged = context.purge(request);
        LOG.info("admin API: cache purge {} removed {} stored response(s)", request, purged);
        send(ctx, json(HttpResponseStatus.OK, Map.of("purged", purged)), keepAlive);
    }

    /** POST drains the endpoint, DELETE puts it back into service. */
    private void drain(ChannelHandlerContext ctx, HttpMethod method, String upstream, String address, boolean keepAlive) {
        if (!method.equals(HttpMethod.POST) && !method.equals(HttpMethod.DELETE)) {
            methodNotAllowed(ctx, "POST, DELETE", keepAlive);
            return;
        }
        String u = QueryStringDecoder.decodeComponent(upstream);
        String a = QueryStringDecoder.decodeComponent(address);
        DrainOutcome outcome = context.drain(u, a, method.equals(HttpMethod.POST));
        if (outcome instanceof DrainOutcome.Done d) {
            send(ctx, json(HttpResponseStatus.OK, AdminResponses.endpoint(d.endpoint())), keepAlive);
        } else {
            send(ctx, error(HttpResponseStatus.NOT_FOUND, ((DrainOutcome.NotFound) outcome).message()), keepAlive);
        }
    }

    private void methodNotAllowed(ChannelHandlerContext ctx, String allow, boolean keepAlive) {
        FullHttpResponse r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed; use " + allow);
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        send(ctx, r, keepAlive);
    }

    private FullHttpResponse dashboardResponse() {
        FullHttpResponse r = AdminResponses.bytes(HttpResponseStatus.OK, AdminResponses.HTML, dashboard);
        r.headers().set("Content-Security-Policy", DashboardPage.CSP).set("Referrer-Policy", "no-referrer");
        return r;
    }

    private FullHttpResponse metrics(ChannelHandlerContext ctx) {
        ByteBuf buf = ctx.alloc().buffer(16 * 1024);
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
            context.metrics().writeText(out);
        } catch (Exception e) {
            buf.release();
            throw new IllegalStateException("writing metrics failed", e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buf);
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, ProxyMetrics.textContentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    /** Runs the reload off the event loop; the connection reads nothing more until it has answered. */
    private void reload(ChannelHandlerContext ctx, boolean keepAlive) {
        ctx.channel().config().setAutoRead(false);
        try {
            reloadExecutor.execute(() -> {
                FullHttpResponse r;
                try {
                    ReloadOutcome outcome = context.reload();
                    HttpResponseStatus status = outcome instanceof ReloadOutcome.Applied
                            ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY;
                    r = json(status, AdminResponses.reload(outcome));
                } catch (RuntimeException e) {
                    LOG.error("admin API: reload failed", e);
                    r = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + e);
                }
                FullHttpResponse response = r;
                ctx.executor().execute(() -> {
                    ctx.channel().config().setAutoRead(true);
                    send(ctx, response, keepAlive);
                });
            });
        } catch (RejectedExecutionException e) {
            ctx.channel().config().setAutoRead(true);
            send(ctx, error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the admin API is stopping"), false);
        }
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            r.release();
            return;
        }
        HttpUtil.setKeepAlive(r, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(r, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private boolean authorized(String header) {
        if (tokenDigest == null) {
            return true;
        }
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        // Comparing digests of equal length: the time taken tells nothing about the token or its length.
        return MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).trim()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin API connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
