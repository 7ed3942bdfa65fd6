package dev.portcullis.net;

import dev.portcullis.config.TransportKind;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** The Netty transport in use: native epoll when it loads, else NIO; io_uring only when the config asks for it. */
public record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        Class<? extends DatagramChannel> datagramChannel,
        String fallbackReason) {

    /** Whether the transport loads on this machine. */
    public static boolean loads(TransportKind kind) {
        return switch (kind) {
            case IO_URING -> IoUring.isAvailable();
            case EPOLL -> Epoll.isAvailable();
            default -> true;
        };
    }

    public static Transport select(TransportKind kind) {
        switch (kind) {
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("transport: io_uring was asked for but does not load here: "
                            + IoUring.unavailabilityCause() + "; use transport: auto");
                }
                return ioUring();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport: epoll was asked for but does not load here: "
                            + Epoll.unavailabilityCause() + "; use transport: auto");
                }
                return epoll();
            }
            case NIO -> {
                return nio("transport: nio in the config");
            }
            default -> {
                // Native epoll, not io_uring, even where io_uring loads: Netty 4.2.18's io_uring transport loses a
                // socket's last wake-up when a peer's FIN or RST lands while the recv of its last bytes is queued
                // (with its default multishot poll: a WebSocket tunnel whose upstream reset right after the 101 never
                // closed the client), and with one-shot polls a closed HTTP/2 upstream connection was never seen
                // closed by its peer. io_uring measured ~25% less CPU per small request (docs/benchmarks.md), so it
                // stays available as transport: io_uring, but correctness comes first.
                return Epoll.isAvailable() ? epoll() : nio(String.valueOf(Epoll.unavailabilityCause()));
            }
        }
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringDatagramChannel.class, null);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollDatagramChannel.class, null);
    }

    private static Transport nio(String why) {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class, why);
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadPrefix, true), ioHandlerFactory);
    }
}
