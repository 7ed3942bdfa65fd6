package dev.portcullis.runtime;

import dev.portcullis.config.HostPort;
import dev.portcullis.http.HttpListenerInitializer;
import dev.portcullis.http.ListenerContext;
import dev.portcullis.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
                .childHandler(new HttpListenerInitializer(context));
        ChannelFuture f = b.bind(address.toSocketAddress()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IllegalStateException("listener '" + context.name() + "' cannot bind " + address + ": "
                    + f.cause().getMessage() + "; is another process using it? change its bind address");
        }
        Channel ch = f.channel();
        return new BoundListener(address, ch, context);
    }
}
