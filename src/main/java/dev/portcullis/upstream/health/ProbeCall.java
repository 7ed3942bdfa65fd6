package dev.portcullis.upstream.health;

import dev.portcullis.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One probe's connection on the supervisor loop. It finishes exactly once (answer, failure or the timeout, which
 * covers connect and answer together) and then closes its channel: probes never keep connections open.
 */
final class ProbeCall {
    private final Consumer<ProbeResult> done;
    private Channel channel;
    private ScheduledFuture<?> timer;
    private boolean finished;

    ProbeCall(Consumer<ProbeResult> done) {
        this.done = done;
    }

    /**
     * @param pipeline adds the protocol's handlers; null: a successful connect is the whole check
     */
    void connect(EventLoop loop, Transport transport, InetSocketAddress to, int timeoutMillis,
                 Consumer<ChannelPipeline> pipeline) {
        Bootstrap b = new Bootstrap().group(loop).channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (pipeline != null) {
                            pipeline.accept(ch.pipeline());
                        }
                    }
                });
        ChannelFuture f = b.connect(to);
        channel = f.channel();
        f.addListener(fut -> {
            if (!fut.isSuccess()) {
                finish(false, Failures.describe(fut.cause()));
            } else if (pipeline == null) {
                finish(true, "connected");
            }
        });
        // Armed after the channel exists, so class loading on the very first probe does not count as the
        // endpoint's slowness; the connect timeout above bounds the connect on its own anyway.
        if (!finished) {
            timer = loop.schedule(() -> finish(false, "no answer within " + timeoutMillis + " ms"), timeoutMillis,
                    TimeUnit.MILLISECONDS);
        }
    }

    void finish(boolean ok, String detail) {
        if (finished) {
            return;
        }
        finished = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
        done.accept(new ProbeResult(ok, detail));
    }
}
