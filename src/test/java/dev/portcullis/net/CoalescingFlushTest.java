package dev.portcullis.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * On a real connection: the flushes asked for in one round of the event loop reach the socket as one, after the
 * round, and a close in the same round still sends what was written.
 */
class CoalescingFlushTest {
    static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterAll
    static void stop() {
        GROUP.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Counts the flushes that reach the transport. */
    static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        final AtomicInteger flushes = new AtomicInteger();

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes.incrementAndGet();
            ctx.flush();
        }
    }

    static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    static Channel connect(ServerSocket server, FlushCounter counter) throws InterruptedException {
        return new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(counter, new CoalescingFlush());
                    }
                })
                .connect(server.getLocalSocketAddress()).sync().channel();
    }

    static String readAll(Socket s, int n) throws Exception {
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        return new String(in.readNBytes(n), StandardCharsets.US_ASCII);
    }

    @Test
    void flushesOfOneRoundReachTheSocketAsOne() throws Exception {
        FlushCounter counter = new FlushCounter();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Channel ch = connect(server, counter);
            try (Socket peer = server.accept()) {
                ch.eventLoop().submit(() -> {
                    ch.writeAndFlush(text("a"));
                    ch.writeAndFlush(text("b"));
                    ch.writeAndFlush(text("c"));
                    assertThat(counter.flushes.get()).as("nothing flushed within the round").isZero();
                }).sync();
                assertThat(readAll(peer, 3)).isEqualTo("abc");
                assertThat(counter.flushes.get()).isEqualTo(1);

                ch.writeAndFlush(text("d")).sync();
                assertThat(readAll(peer, 1)).isEqualTo("d");
                assertThat(counter.flushes.get()).as("a later round flushes again").isEqualTo(2);
            } finally {
                ch.close().sync();
            }
        }
    }

    @Test
    void aCloseInTheSameRoundSendsWhatWasWrittenFirst() throws Exception {
        FlushCounter counter = new FlushCounter();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Channel ch = connect(server, counter);
            try (Socket peer = server.accept()) {
                ch.eventLoop().submit(() -> {
                    ch.writeAndFlush(text("last words"));
                    ch.close();
                }).sync();
                assertThat(readAll(peer, 64)).isEqualTo("last words");
                ch.closeFuture().sync();
                assertThat(counter.flushes.get()).isEqualTo(1);
            }
        }
    }
}
