package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import dev.portcullis.tls.ServerTls;

/**
 * Builds the pipeline of each accepted client connection of an HTTP listener, after enforcing
 * {@code limits.max_connections}: over it, the connection gets a canned 503 and is closed at once.
 */
public final class HttpListenerInitializer extends ChannelInitializer<Channel> {
    private static final byte[] OVERLOADED = CannedResponse.closing("503 Service Unavailable",
            "listener at its max_connections");

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
        ServerTls tls = listener.runtime().tls();
        if (tls != null) {
            // plain-HTTP detector, SNI certificate choice (becomes the SslHandler), handshake metrics; then ALPN
            // picks the protocol handlers once the handshake is done.
            tls.addHandlers(ch.pipeline(), listener.name(), listener.stats());
            ch.pipeline().addLast("alpn", new AlpnNegotiation(listener));
        } else {
            // Plain http: HTTP/1 (with the h2c upgrade when HTTP/2 is on), unless the first bytes say otherwise.
            boolean http2 = listener.runtime().config().http2().enabled();
            HttpPipelines.http1(ch.pipeline(), listener, http2);
            ch.pipeline().addFirst("detect", new CleartextDetector(listener, http2));
        }
    }
}
