package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;

/** The protocol handlers of a client connection once its protocol is known (after TLS and ALPN, if any). */
final class HttpPipelines {
    static final int MAX_CHUNK = 64 * 1024;
    /** The name of the handler that tells the connection timer about raw bytes (a WebSocket tunnel removes it). */
    static final String ACTIVITY = "activity";
    private static final String[] HTTP1_HANDLERS = {ACTIVITY, "decoder", "encoder", "proxy"};
    static final String H2C_UPGRADE = "h2c-upgrade";

    private HttpPipelines() {
    }

    /** HTTP/1.x: strict decoder, encoder, proxy handler. */
    static void http1(ChannelPipeline p, ListenerContext listener) {
        http1(p, listener, false);
    }

    /** @param h2cUpgrade the first request may upgrade to h2c (plain listeners with HTTP/2 on) */
    static void http1(ChannelPipeline p, ListenerContext listener, boolean h2cUpgrade) {
        ListenerLimits limits = listener.runtime().limits();
        HttpDecoderConfig cfg = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine())
                .setMaxHeaderSize(limits.maxHeaderSize())
                .setMaxChunkSize(MAX_CHUNK)
                .setValidateHeaders(true)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false);
        StrictRequestDecoder decoder = new StrictRequestDecoder(cfg);
        ProxyResponseEncoder encoder = new ProxyResponseEncoder();
        HttpProxyHandler handler = new HttpProxyHandler(listener, encoder, limits);
        p.addLast(ACTIVITY, new ReadActivity(handler.timer));
        p.addLast("decoder", decoder);
        p.addLast("encoder", encoder);
        if (h2cUpgrade) {
            p.addLast(H2C_UPGRADE, new H2cUpgrade(p.channel(), listener));
        }
        p.addLast("proxy", handler);
    }

    /** The connection turns out to speak HTTP/2 (preface): every HTTP/1 handler leaves. */
    static void removeHttp1(ChannelPipeline p) {
        removeHttp1Handlers(p);
        if (p.get(H2C_UPGRADE) != null) {
            p.remove(H2C_UPGRADE);
        }
    }

    /** The h2c upgrade's source side: the HTTP/1 handlers leave (the upgrade handler removes itself after). */
    static void removeHttp1Handlers(ChannelHandlerContext upgrade) {
        removeHttp1Handlers(upgrade.pipeline());
    }

    private static void removeHttp1Handlers(ChannelPipeline p) {
        for (String name : HTTP1_HANDLERS) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** Tells the timer that raw bytes arrived, before the decoder has a whole request head. */
    private static final class ReadActivity extends ChannelInboundHandlerAdapter {
        private final ConnectionTimer timer;

        ReadActivity(ConnectionTimer timer) {
            this.timer = timer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            timer.bytesArrived();
            ctx.fireChannelRead(msg);
        }
    }
}
