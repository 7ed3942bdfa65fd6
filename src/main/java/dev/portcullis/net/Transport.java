package dev.portcullis.net;

import dev.portcullis.config.TransportKind;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** The Netty transport in use: io_uring when it loads, else native epoll, else NIO. */
public record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        String fallbackReason) {

    /*
     * io_uring: one-shot POLL_ADD instead of Netty's default multishot one. With multishot, Netty 4.2.18 can lose
     * the last wake-up of a socket: when a peer's FIN or RST lands while a recv for its last bytes is already
     * queued, the poll's completion is dropped (a read is "scheduled"), the recv returns the bytes without
     * IORING_CQE_F_SOCK_NONEMPTY, and the poll stays armed with nothing left to report, so the channel never
     * reads the EOF/ECONNRESET and never closes (seen as a WebSocket tunnel whose upstream reset right after its
     * 101 never closing the client). A one-shot poll is re-armed after such a read, and arming it checks the
     * socket's state at once. Set here, before anything loads the IoUring class, which reads it once; an explicit
     * -Dio.netty.iouring.pollAddMultishotEnabled still wins.
     */
    static {
        if (System.getProperty("io.netty.iouring.pollAddMultishotEnabled") == null) {
            System.setProperty("io.netty.iouring.pollAddMultishotEnabled", "false");
        }
    }

    /** Whether the transport loads on this machine (asked through this class, so its settings apply first). */
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
                // io_uring measured ~25% less CPU per request than epoll here (docs/benchmarks.md); kernels or
                // sandboxes that forbid it (seccomp, io_uring_disabled) fall back to epoll, then NIO.
                if (IoUring.isAvailable()) {
                    return ioUring();
                }
                return Epoll.isAvailable() ? epoll() : nio(String.valueOf(Epoll.unavailabilityCause()));
            }
        }
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, null);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, null);
    }

    private static Transport nio(String why) {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                why);
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadPrefix, true), ioHandlerFactory);
    }
}
