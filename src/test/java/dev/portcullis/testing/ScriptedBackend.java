package dev.portcullis.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a plain ServerSocket, for upstream behaviour a real HTTP server would not produce: garbage,
 * early close, truncated bodies, silence. Each accepted connection runs the script on its own thread.
 */
public final class ScriptedBackend implements AutoCloseable {
    @FunctionalInterface
    public interface Script {
        /** @param index 0 for the first connection accepted, 1 for the next... */
        void run(Socket socket, int index) throws Exception;
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    public final AtomicInteger connections = new AtomicInteger();
    /** Request heads read by {@link #readHead}. */
    public final List<String> heads = new CopyOnWriteArrayList<>();

    private ScriptedBackend(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return;
                }
                sockets.add(s);
                int index = connections.getAndIncrement();
                Thread t = new Thread(() -> {
                    try {
                        script.run(s, index);
                    } catch (Exception e) {
                        // the test decides what matters; a closed socket ends the script
                    }
                }, "scripted-backend-conn-" + index);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }, "scripted-backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static ScriptedBackend start(Script script) throws IOException {
        return new ScriptedBackend(script);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Reads a request head (up to the empty line); null at EOF. Records it in {@link #heads}. */
    public String readHead(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            buf.write(c);
            int n = buf.size();
            if (n >= 4) {
                byte[] b = buf.toByteArray();
                if (b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                    String head = buf.toString(StandardCharsets.ISO_8859_1);
                    heads.add(head);
                    return head;
                }
            }
        }
        return null;
    }

    public static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** A port nothing listens on (bound then closed; another process could take it, but rarely does). */
    public static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        acceptor.join(2000);
        for (Thread t : threads) {
            t.interrupt();
            t.join(2000);
        }
    }
}
