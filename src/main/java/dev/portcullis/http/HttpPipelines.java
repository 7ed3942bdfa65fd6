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

    private HttpPipelines() {
    }

    /** HTTP/1.x: strict decoder, encoder, proxy handler. */
    static void http1(ChannelPipeline p, ListenerContext listener) {
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
        p.addLast("proxy", handler);
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
