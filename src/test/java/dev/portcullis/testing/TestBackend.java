package dev.portcullis.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP backend on 127.0.0.1 (the JDK's HttpServer). By default it answers 200 with
 * "NAME METHOD URI" and records each request (method, URI, headers, body) for assertions.
 */
public final class TestBackend implements AutoCloseable {
    static {
        // The JDK server writes a response's head and body separately; with Nagle on, the body waits for the
        // proxy's delayed ACK (~40 ms). Read once when the server classes load, so set before the first start.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public record Seen(String method, String uri, Map<String, java.util.List<String>> headers, byte[] body) {
        public String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(8);
    public final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    public final String name;

    private TestBackend(String name, HttpHandler handler) throws IOException {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.createContext("/", ex -> {
            try {
                handler.handle(ex);
            } finally {
                ex.close();
            }
        });
        server.setExecutor(pool);
        server.start();
    }

    public static TestBackend start(String name) throws IOException {
        TestBackend[] self = new TestBackend[1];
        self[0] = new TestBackend(name, ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            self[0].seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().toString(),
                    Map.copyOf(ex.getRequestHeaders()), body));
            byte[] out = (name + " " + ex.getRequestMethod() + " " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        });
        return self[0];
    }

    /** A backend with its own handler (the exchange is closed after the handler returns). */
    public static TestBackend start(String name, HttpHandler handler) throws IOException {
        return new TestBackend(name, handler);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public static byte[] drain(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            return in.readAllBytes();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
