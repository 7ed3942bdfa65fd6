package dev.portcullis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a plain ServerSocket, for what the JDK HttpServer cannot do (trailers, 1xx, close-delimited
 * bodies, exact framing) and for counting TCP connections. Each accepted connection runs {@link Handler} on
 * its own thread; the default handler loop reads requests with {@link Wire} and records them.
 */
public final class RawBackend implements AutoCloseable {
    /** Serves one connection; return to close it. */
    @FunctionalInterface
    public interface Handler {
        void serve(RawBackend self, InputStream in, OutputStream out) throws IOException;
    }

    /** Answers one request already read; return false to close the connection after it. */
    @FunctionalInterface
    public interface Responder {
        boolean respond(Wire.Message request, OutputStream out) throws IOException;
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    public final AtomicInteger accepted = new AtomicInteger();
    public final ConcurrentLinkedQueue<Wire.Message> requests = new ConcurrentLinkedQueue<>();

    private RawBackend(Handler handler) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread t = new Thread(() -> {
                        try (s) {
                            handler.serve(this, s.getInputStream(), s.getOutputStream());
                        } catch (IOException ignored) {
                            // peer went away
                        }
                    }, "raw-backend-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "raw-backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static RawBackend start(Handler handler) throws IOException {
        return new RawBackend(handler);
    }

    /** Reads requests in a loop on each connection, records them and lets {@code responder} answer. */
    public static RawBackend serving(Responder responder) throws IOException {
        return new RawBackend((self, in, out) -> {
            Wire.Message req;
            while ((req = Wire.readRequest(in)) != null) {
                self.requests.add(req);
                if (!responder.respond(req, out)) {
                    out.flush();
                    return;
                }
                out.flush();
            }
        });
    }

    public static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    public String address() {
        return "127.0.0.1:" + server.getLocalPort();
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
        try {
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
