package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.nio.charset.StandardCharsets;

/**
 * Builds the pipeline of each accepted client connection of an HTTP listener, after enforcing
 * {@code limits.max_connections}: over it, the connection gets a canned 503 and is closed at once.
 */
public final class HttpListenerInitializer extends ChannelInitializer<Channel> {
    static final int MAX_CHUNK = 64 * 1024;
    private static final byte[] OVERLOADED = ("HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 58\r\nConnection: close\r\n\r\n"
            + "503 Service Unavailable: listener at its max_connections\r\n").getBytes(StandardCharsets.US_ASCII);

    private final ListenerContext listener;

    public HttpListenerInitializer(ListenerContext listener) {
        this.listener = listener;
    }

    @Override
    protected void initChannel(Channel ch) {
        ListenerLimits limits = listener.runtime().limits();
        if (listener.connectionCount().incrementAndGet() > limits.maxConnections()) {
            listener.connectionCount().decrementAndGet();
            listener.stats().connectionRejected();
            ch.writeAndFlush(Unpooled.wrappedBuffer(OVERLOADED)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        listener.stats().connectionOpened();
        ch.closeFuture().addListener(f -> {
            listener.connectionCount().decrementAndGet();
            listener.stats().connectionClosed();
        });
        listener.connections().add(ch);
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
        ch.pipeline().addLast("activity", new ReadActivity(handler.timer));
        ch.pipeline().addLast("decoder", decoder);
        ch.pipeline().addLast("encoder", encoder);
        ch.pipeline().addLast("proxy", handler);
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
