package dev.portcullis.http;

import dev.portcullis.l4.Relay;
import dev.portcullis.upstream.pool.UpstreamConnection;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WebSocket connection after the upstream's {@code 101 Switching Protocols}, or a {@code CONNECT} tunnel after
 * {@code 200 Connection established}: both connections leave HTTP and become a {@link Relay} of raw bytes until one
 * side closes. This class is the switch from HTTP to the relay; the relay itself (backpressure, half-close, idle
 * timeout) is shared with the SOCKS5 listeners.
 *
 * <p>Bytes already read but not decoded when the switch happens are not lost: the client's decoder held what
 * followed the upgrade request ({@link StrictRequestDecoder}), the upstream's codec holds what followed the 101,
 * and removing a decoder hands its undecoded bytes to the next handler, which is by then the relay.
 */
final class UpgradeTunnel {
    private static final Logger log = LoggerFactory.getLogger(UpgradeTunnel.class);

    private UpgradeTunnel() {
    }

    /**
     * Takes over both connections. The 101 (or 200) must already be written to the client (through its encoder,
     * which goes now). The order matters: each side's decoder is removed only once the other side's relay handler
     * is in place, since removing it delivers the bytes it held.
     *
     * @param release gives back the upstream's circuit breaker slot and the endpoint's in-flight count, once
     */
    static Relay start(HttpProxyHandler handler, Exchange ex, Channel upstreamChannel, Runnable release,
            long idleNanos) {
        Channel clientChannel = handler.ctx.channel();
        String what = ex.connectTunnel ? "CONNECT tunnel" : "websocket";
        Relay relay = Relay.between(clientChannel, upstreamChannel, idleNanos, "listener "
                + handler.listener().name() + ": route " + ex.route.name() + ": " + what + " (request id "
                + ex.requestId + ")", (fromClient, fromUpstream) -> {
                    release.run();
                    handler.tunnelEnded(ex, fromClient, fromUpstream);
                });
        try {
            ChannelPipeline cp = clientChannel.pipeline();
            cp.replace(handler, "tunnel", relay.clientSide());
            removeIfPresent(cp, ProxyResponseEncoder.class);
            if (cp.get(HttpPipelines.ACTIVITY) != null) {
                cp.remove(HttpPipelines.ACTIVITY);
            }
            ChannelPipeline up = upstreamChannel.pipeline();
            if (up.get(UpstreamConnection.class) != null) {
                up.replace(UpstreamConnection.class, "tunnel", relay.upstreamSide());
            } else {
                up.addLast("tunnel", relay.upstreamSide()); // a CONNECT's own raw connection
            }
            removeIfPresent(up, HttpClientCodec.class); // hands on what followed the 101: written to the client
            removeIfPresent(cp, StrictRequestDecoder.class); // hands on what followed the request: written upstream
        } catch (RuntimeException e) {
            // A pipeline this class does not know: never leave the two connections half switched.
            log.error("listener {}: route {}: cannot switch to a {}; closing both connections (request id {})",
                    handler.listener().name(), ex.route.name(), what, ex.requestId, e);
            relay.end(false);
            return relay;
        }
        relay.start();
        return relay;
    }

    private static void removeIfPresent(ChannelPipeline p, Class<? extends io.netty.channel.ChannelHandler> type) {
        if (p.get(type) != null) {
            p.remove(type);
        }
    }
}
