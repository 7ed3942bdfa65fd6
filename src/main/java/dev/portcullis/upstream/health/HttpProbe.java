package dev.portcullis.upstream.health;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.net.Transport;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.pool.ConnectionSettings;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Consumer;

/**
 * An HTTP check: {@code GET path} with {@code Connection: close}; it passes when a response head with an expected
 * status arrives within the timeout. The body is never read into memory (its parts are released as they come and
 * the connection is closed at the head), and a response head over 8 KiB fails the check.
 *
 * <p>It speaks to the endpoint the way requests do ({@link ConnectionSettings}): over TLS with the upstream's
 * verification, SNI and client certificate when it has {@code tls} (a failed handshake fails the check), and over
 * HTTP/2 on one stream for {@code http2} and {@code h2c} upstreams, which may not understand HTTP/1.1 at all.
 */
final class HttpProbe extends ChannelInboundHandlerAdapter {
    static final int MAX_HEAD = 8 * 1024;
    private static final String USER_AGENT = "portcullis-health-check";

    private final ProbeCall call;
    private final UpstreamConfig.HttpCheck check;
    private final String host;

    private HttpProbe(ProbeCall call, UpstreamConfig.HttpCheck check, String host) {
        this.call = call;
        this.check = check;
        this.host = host;
    }

    static void run(EventLoop loop, Transport transport, Endpoint e, UpstreamConfig.HttpCheck check, int timeoutMillis,
                    ConnectionSettings settings, Consumer<ProbeResult> done) {
        ProbeCall call = new ProbeCall(done);
        String host = check.host() != null ? check.host() : e.label();
        HttpProbe probe = new HttpProbe(call, check, host);
        call.connect(loop, transport, e.socketAddress(), timeoutMillis, p -> {
            if (settings.tls() != null) {
                p.addLast(settings.tls().newHandler(p.channel().alloc(), e.address().host(), e.address().port()));
            }
            if (settings.multiplexed()) {
                Http2Probe.install(p, call, probe, settings);
            } else {
                HttpDecoderConfig cfg = new HttpDecoderConfig().setMaxInitialLineLength(MAX_HEAD)
                        .setMaxHeaderSize(MAX_HEAD);
                p.addLast(new HttpClientCodec(cfg, false, false), probe);
            }
        });
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(SslHandler.class) == null) {
            send(ctx); // over TLS: once the handshake is done (nothing waits in the TLS handler meanwhile)
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (hs.isSuccess()) {
                send(ctx);
            } else {
                call.finish(false, Failures.describe(hs.cause()));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void send(ChannelHandlerContext ctx) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, check.path(),
                Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.USER_AGENT, USER_AGENT)
                .set(HttpHeaderNames.ACCEPT, "*/*");
        ctx.writeAndFlush(req).addListener(f -> {
            if (!f.isSuccess()) {
                call.finish(false, Failures.describe(f.cause()));
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpResponse r) {
                if (r.decoderResult().isFailure()) {
                    call.finish(false, "invalid response head (" + r.decoderResult().cause().getMessage() + ")");
                    return;
                }
                int status = r.status().code();
                if (status >= 100 && status < 200) {
                    return; // an interim response; the final one follows
                }
                boolean ok = false;
                for (UpstreamConfig.StatusRange range : check.expect()) {
                    ok |= range.contains(status);
                }
                call.finish(ok, "status " + status);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        call.finish(false, "connection closed without a response");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        call.finish(false, Failures.describe(cause));
    }
}
