package dev.portcullis.admin;

import dev.portcullis.config.AdminConfig;
import dev.portcullis.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The admin API, /metrics, health checks and the dashboard, on its own one-thread event loop. */
public final class AdminServer {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    static final int MAX_BODY = 64 * 1024;
    private static final int IDLE_SECONDS = 60;

    private final AdminConfig config;
    private final AdminContext context;
    private final Transport transport;
    private EventLoopGroup group;
    private ExecutorService reloadExecutor;
    private Channel channel;

    public AdminServer(AdminConfig config, AdminContext context, Transport transport) {
        this.config = config;
        this.context = context;
        this.transport = transport;
    }

    /**
     * Binds {@code admin.bind}.
     *
     * @throws IllegalStateException naming the address when it cannot be bound
     */
    public synchronized void start() {
        if (channel != null) {
            throw new IllegalStateException("admin server already started");
        }
        reloadExecutor = Executors.newSingleThreadExecutor(new DefaultThreadFactory("portcullis-admin-reload", true));
        AdminHandler handler = new AdminHandler(context, config.token(), reloadExecutor);
        group = transport.newGroup(1, "portcullis-admin");
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new ReadTimeoutHandler(IDLE_SECONDS))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(handler);
                    }
                });
        ChannelFuture bind = b.bind(config.bind().toSocketAddress()).awaitUninterruptibly();
        if (!bind.isSuccess()) {
            stopQuietly();
            Throwable cause = bind.cause();
            throw new IllegalStateException("admin API cannot listen on " + config.bind() + ": "
                    + (cause == null ? "bind failed" : cause.getMessage())
                    + "; is another process using it? change admin.bind", cause);
        }
        channel = bind.channel();
        LOG.info("admin API and dashboard on http://{}/{}", config.bind(),
                config.tokenRequired() ? " (token required)" : "");
    }

    /** The address bound; useful with port 0. */
    public synchronized InetSocketAddress boundAddress() {
        if (channel == null) {
            throw new IllegalStateException("admin server not started");
        }
        return (InetSocketAddress) channel.localAddress();
    }

    /** Closes the listening socket and the connections, and waits briefly for the event loop to end. */
    public synchronized void stop() {
        stopQuietly();
    }

    private void stopQuietly() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            channel = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            group = null;
        }
        if (reloadExecutor != null) {
            reloadExecutor.shutdownNow();
            reloadExecutor = null;
        }
    }
}
