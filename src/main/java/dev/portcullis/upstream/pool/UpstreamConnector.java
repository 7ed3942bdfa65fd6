package dev.portcullis.upstream.pool;

import dev.portcullis.config.UpstreamConnectionConfig.Protocol;
import dev.portcullis.net.Transport;
import dev.portcullis.tls.ClientTlsFailures;
import dev.portcullis.upstream.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Opens one connection to an endpoint with an upstream's {@link ConnectionSettings}: TCP, then the TLS handshake
 * (and, for {@code http2}, ALPN {@code h2}), then the protocol's own handshake, which the {@link Installer} adds
 * and completes. The returned future succeeds only when all of it did, within one connect timeout: until then
 * the connection does not count as connected (for the circuit breaker, retries and passive health). A failure
 * after TCP is an {@link UpstreamConnectException} whose message names the reason, never the address.
 * Used by the connection pools and by active health checks.
 */
public final class UpstreamConnector {
    private UpstreamConnector() {
    }

    /** Adds the protocol's handlers once the transport (TCP, TLS) is up, and completes {@code ready}. */
    @FunctionalInterface
    public interface Installer {
        void install(Channel ch, Promise<Channel> ready);
    }

    public static Future<Channel> open(EventLoop loop, Transport transport, Endpoint endpoint,
                                       ConnectionSettings settings, int timeoutMillis, Installer installer) {
        Promise<Channel> ready = loop.newPromise();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (settings.tls() != null) {
                            ch.pipeline().addLast("tls", settings.tls().newHandler(ch.alloc(),
                                    endpoint.address().host(), endpoint.address().port()));
                            ch.pipeline().addLast("handshake", new HandshakeWatcher(settings, installer, ready));
                        }
                    }
                });
        ChannelFuture f = b.connect(endpoint.socketAddress());
        Channel ch = f.channel();
        f.addListener(done -> {
            if (!done.isSuccess()) {
                ready.tryFailure(done.cause());
                return;
            }
            // Watched only once TCP is up: a failed connect closes the channel too, and its cause says more.
            ch.closeFuture().addListener(closed -> {
                if (!ready.isDone()) { // every pooled connection closes one day: no exception built for those
                    ready.tryFailure(closedWhileSettingUp(settings));
                }
            });
            if (settings.tls() == null && !ready.isDone()) {
                install(installer, ch, ready);
            }
        });
        ScheduledFuture<?> timer = loop.schedule(() -> {
            ready.tryFailure(new ConnectTimeoutException(settings.tls() == null ? "connect timed out"
                    : "connect timed out (TCP and TLS handshake)"));
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        ready.addListener(r -> {
            timer.cancel(false);
            if (!r.isSuccess()) {
                ch.close();
            }
        });
        return ready;
    }

    private static UpstreamConnectException closedWhileSettingUp(ConnectionSettings settings) {
        return new UpstreamConnectException(settings.multiplexed()
                ? "the endpoint closed the connection before its HTTP/2 SETTINGS (does it speak "
                        + (settings.tls() != null ? "HTTP/2" : "h2c") + "?)"
                : "the endpoint closed the connection while it was being set up", null);
    }

    private static void install(Installer installer, Channel ch, Promise<Channel> ready) {
        try {
            installer.install(ch, ready);
        } catch (RuntimeException e) {
            ready.tryFailure(e);
        }
    }

    /** Waits for the TLS handshake, checks ALPN for http2, then hands over to the installer. */
    private static final class HandshakeWatcher extends ChannelInboundHandlerAdapter {
        private final ConnectionSettings settings;
        private final Installer installer;
        private final Promise<Channel> ready;

        HandshakeWatcher(ConnectionSettings settings, Installer installer, Promise<Channel> ready) {
            this.settings = settings;
            this.installer = installer;
            this.ready = ready;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent hs)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            if (!hs.isSuccess()) {
                failed(hs.cause()); // stays, to take the exceptionCaught SslHandler fires after the event
                return;
            }
            ctx.pipeline().remove(this);
            if (settings.protocol() == Protocol.HTTP2) {
                String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
                if (!ApplicationProtocolNames.HTTP_2.equals(alpn)) {
                    ready.tryFailure(new UpstreamConnectException("the endpoint did not select HTTP/2 in the TLS "
                            + "handshake (ALPN h2); use protocol: http1 for it", null));
                    return;
                }
            }
            if (!ready.isDone()) {
                install(installer, ctx.channel(), ready);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // SslHandler reports a failed handshake here too (before the completion event): one reason is enough.
            failed(cause);
        }

        private void failed(Throwable cause) {
            ready.tryFailure(new UpstreamConnectException("TLS handshake failed: " + ClientTlsFailures.reason(cause),
                    cause));
        }
    }
}
