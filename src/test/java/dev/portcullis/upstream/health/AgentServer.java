package dev.portcullis.upstream.health;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** A load agent as HAProxy's agent-check expects: on each connection it writes {@link #line} and a newline, then closes. */
public final class AgentServer implements AutoCloseable {
    public volatile String line;
    public final AtomicInteger connections = new AtomicInteger();
    private final ServerSocket server;
    private final Thread acceptor;

    public AgentServer(String host, int port, String line) throws IOException {
        this.line = line;
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 50);
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    connections.incrementAndGet();
                    OutputStream out = s.getOutputStream();
                    out.write((this.line + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // closed: the test is over; a probe that gave up early: next one
                }
            }
        }, "agent-" + host + ":" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(2000);
    }
}
