package dev.portcullis.runtime;

import dev.portcullis.config.HostPort;
import dev.portcullis.config.ListenerConfig;
import dev.portcullis.http.HttpListenerInitializer;
import dev.portcullis.http.ListenerContext;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.l4.socks.SocksListenerInitializer;
import dev.portcullis.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;

/** Opens listener sockets on the worker event loops. */
final class ListenerBinder {
    private final Transport transport;
    private final EventLoopGroup workers;

    ListenerBinder(Transport transport, EventLoopGroup workers) {
        this.transport = transport;
        this.workers = workers;
    }

    /** @throws IllegalStateException with a message naming the listener and address when it cannot bind */
    BoundListener bind(HostPort address, ListenerContext context) {
        ServerBootstrap b = new ServerBootstrap()
                .group(workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new Connections(context));
        ChannelFuture f = b.bind(address.toSocketAddress()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IllegalStateException("listener '" + context.name() + "' cannot bind " + address + ": "
                    + f.cause().getMessage() + "; is another process using it? change its bind address");
        }
        Channel ch = f.channel();
        return new BoundListener(address, ch, context);
    }

    /**
     * Each accepted connection: {@code limits.max_connections}, then the pipeline of the listener's protocol. The
     * protocol is read per connection, from the listener as it is now: a reload may turn a listener from http into
     * socks5 (or back) on the same socket, and the connections accepted after it speak the new protocol.
     */
    private static final class Connections extends ChannelInitializer<Channel> {
        private final ListenerContext context;

        Connections(ListenerContext context) {
            this.context = context;
        }

        @Override
        protected void initChannel(Channel ch) {
            ListenerRuntime runtime = context.runtime();
            boolean socks = runtime.config().protocol() == ListenerConfig.Protocol.SOCKS5;
            if (!context.admit(ch, runtime.limits().maxConnections())) {
                if (socks) {
                    ch.close(); // SOCKS5 has nothing to say before the client's greeting
                } else {
                    HttpListenerInitializer.refuse(ch);
                }
                return;
            }
            if (socks) {
                SocksListenerInitializer.init(ch, context, runtime);
            } else {
                HttpListenerInitializer.init(ch, context, runtime);
            }
        }
    }
}
