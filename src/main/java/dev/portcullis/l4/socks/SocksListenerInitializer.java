package dev.portcullis.l4.socks;

import dev.portcullis.http.ForwardRuntime;
import dev.portcullis.http.ListenerContext;
import dev.portcullis.http.ListenerRuntime;
import io.netty.channel.Channel;
import io.netty.handler.codec.socksx.SocksPortUnificationServerHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the pipeline of an accepted client connection of a {@code protocol: socks5} listener, once the client is
 * known to be one of {@code forward.clients} (others are closed at once, before reading a byte: SOCKS5 has no way to
 * say "not you" before the greeting).
 *
 * <p>The first byte picks the codec (Netty's {@link SocksPortUnificationServerHandler}): 5 installs the SOCKS5
 * greeting decoder and the reply encoder, 4 the SOCKS4 codec so that a SOCKS4 client is told "rejected" in its own
 * protocol, anything else closes. {@link SocksHandshake} then takes the client through the handshake.
 */
public final class SocksListenerInitializer {
    private static final Logger log = LoggerFactory.getLogger(SocksListenerInitializer.class);

    private SocksListenerInitializer() {
    }

    /** @param runtime the listener as the connection was accepted: its rules apply to the whole connection */
    public static void init(Channel ch, ListenerContext listener, ListenerRuntime runtime) {
        ForwardRuntime fwd = runtime.forward();
        SocksSession session = new SocksSession(listener.name(), ch.remoteAddress());
        if (!fwd.clientAllowed(session.clientBytes)) {
            fwd.stats().denied("client");
            log.info("listener {}: client {} may not use this proxy (forward.clients); connection closed",
                    listener.name(), session.clientIp);
            ch.close();
            return;
        }
        ch.pipeline().addLast("socks-version", new SocksPortUnificationServerHandler());
        ch.pipeline().addLast("socks", new SocksHandshake(listener, runtime, session));
    }
}
