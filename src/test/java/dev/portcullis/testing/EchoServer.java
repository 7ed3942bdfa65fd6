package dev.portcullis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP echo server: every byte read is written back, and the end of the client's input (FIN) is answered with the
 * end of the server's output once everything was echoed, so a half-close that reaches it comes back. For tunnels
 * (SOCKS5, CONNECT) where the bytes, not HTTP, are the point.
 */
public final class EchoServer implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    public final AtomicInteger accepted = new AtomicInteger();

    private EchoServer(InetAddress bind) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(bind, 0), 50);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread t = new Thread(() -> echo(s), "echo-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @param bind such as 127.0.0.1 or ::1 */
    public static EchoServer start(String bind) throws IOException {
        return new EchoServer(InetAddress.getByName(bind));
    }

    private static void echo(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[32 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            out.flush();
            s.shutdownOutput();
            // wait for the peer to close its side, so that close does not reset what is still on its way
            while (in.read(buf) >= 0) {
                // nothing more is expected
            }
        } catch (IOException ignored) {
            // the peer went away
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
