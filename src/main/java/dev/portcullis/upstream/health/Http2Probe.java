package dev.portcullis.upstream.health;

import dev.portcullis.config.UpstreamConnectionConfig.Protocol;
import dev.portcullis.upstream.pool.ConnectionSettings;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The HTTP/2 side of an {@link HttpProbe} for {@code http2} and {@code h2c} upstreams: once the endpoint's SETTINGS
 * arrived (after ALPN chose h2, over TLS), one stream carries the probe's GET, through the same HTTP/2-to-HTTP/1
 * codec the proxy uses. The probe ends by closing the whole connection.
 */
final class Http2Probe extends ChannelInboundHandlerAdapter {
    private final ProbeCall call;
    private final HttpProbe probe;
    private final ConnectionSettings settings;
    private boolean started;

    private Http2Probe(ProbeCall call, HttpProbe probe, ConnectionSettings settings) {
        this.call = call;
        this.probe = probe;
        this.settings = settings;
    }

    /** Over TLS the HTTP/2 handlers join once the handshake chose h2; in clear text at once. */
    static void install(ChannelPipeline p, ProbeCall call, HttpProbe probe, ConnectionSettings settings) {
        p.addLast(new Http2Probe(call, probe, settings));
        if (settings.tls() == null) {
            addCodec(p, p.context(Http2Probe.class).name());
        }
    }

    private static void addCodec(ChannelPipeline p, String before) {
        p.addBefore(before, null, Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).maxHeaderListSize(HttpProbe.MAX_HEAD))
                .build());
        p.addBefore(before, null, new Http2MultiplexHandler(Ignore.INSTANCE));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (!hs.isSuccess()) {
                call.finish(false, Failures.describe(hs.cause()));
                return;
            }
            String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!ApplicationProtocolNames.HTTP_2.equals(alpn)) {
                call.finish(false, "the endpoint did not select HTTP/2 (ALPN h2)");
                return;
            }
            addCodec(ctx.pipeline(), ctx.name());
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        boolean settingsFrame = msg instanceof Http2SettingsFrame;
        ReferenceCountUtil.release(msg);
        if (settingsFrame && !started) {
            started = true;
            new Http2StreamChannelBootstrap(ctx.channel())
                    .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                        @Override
                        protected void initChannel(io.netty.channel.Channel ch) {
                            ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), probe);
                        }
                    })
                    .open()
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            call.finish(false, "could not open an HTTP/2 stream: " + Failures.describe(f.cause()));
                        }
                    });
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        call.finish(false, started ? "connection closed without a response"
                : "connection closed before HTTP/2 SETTINGS (does the endpoint speak HTTP/2?)");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        call.finish(false, (started ? "" : "HTTP/2 connection failed: ") + Failures.describe(cause));
    }

    /** Streams the endpoint opens (push is off): their frames are dropped. */
    @ChannelHandler.Sharable
    private static final class Ignore extends ChannelInboundHandlerAdapter {
        static final Ignore INSTANCE = new Ignore();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
