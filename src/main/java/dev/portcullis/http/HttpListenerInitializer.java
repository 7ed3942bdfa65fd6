package dev.portcullis.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import dev.portcullis.tls.ServerTls;

/** Builds the pipeline of an accepted client connection of an {@code http} or {@code https} listener. */
public final class HttpListenerInitializer {
    private static final byte[] OVERLOADED = CannedResponse.closing("503 Service Unavailable",
            "listener at its max_connections");

    private HttpListenerInitializer() {
    }

    /** The listener is at {@code limits.max_connections}: a canned 503, and the connection closes at once. */
    public static void refuse(Channel ch) {
        ch.writeAndFlush(Unpooled.wrappedBuffer(OVERLOADED)).addListener(ChannelFutureListener.CLOSE);
    }

    /** @param runtime the listener as the connection was accepted (it stays http or https for the connection) */
    public static void init(Channel ch, ListenerContext listener, ListenerRuntime runtime) {
        ServerTls tls = runtime.tls();
        if (tls != null) {
            // plain-HTTP detector, SNI certificate choice (becomes the SslHandler), handshake metrics; then ALPN
            // picks the protocol handlers once the handshake is done.
            tls.addHandlers(ch.pipeline(), listener.name(), listener.stats());
            ch.pipeline().addLast("alpn", new AlpnNegotiation(listener));
        } else {
            // Plain http: HTTP/1 (with the h2c upgrade when HTTP/2 is on), unless the first bytes say otherwise.
            boolean http2 = runtime.config().http2().enabled();
            HttpPipelines.http1(ch.pipeline(), listener, http2);
            ch.pipeline().addFirst("detect", new CleartextDetector(listener, http2));
        }
    }
}
