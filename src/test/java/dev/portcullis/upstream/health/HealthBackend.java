package dev.portcullis.upstream.health;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP backend (the JDK's HttpServer) whose {@code /healthz} answer a test switches at will. Every other
 * path answers 200 with the backend's name and is counted in {@link #requests}.
 */
public final class HealthBackend implements AutoCloseable {
    public final String name;
    public volatile int healthStatus = 200;
    /** Requests other than health checks. */
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicInteger passedChecks = new AtomicInteger();
    public final AtomicInteger failedChecks = new AtomicInteger();
    /** Requests to {@code /slow} wait for this gate; {@link #slowInFlight} counts those waiting. */
    public final CountDownLatch slowGate = new CountDownLatch(1);
    public final AtomicInteger slowInFlight = new AtomicInteger();
    /** "Host|Connection|User-Agent|URI" of each health check seen. */
    public final ConcurrentLinkedQueue<String> checkHeads = new ConcurrentLinkedQueue<>();
    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(8);

    private HealthBackend(String name, InetSocketAddress bind) throws IOException {
        this.name = name;
        server = HttpServer.create(bind, 128);
        server.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                if (ex.getRequestURI().getPath().equals("/healthz")) {
                    int status = healthStatus;
                    checkHeads.add(ex.getRequestHeaders().getFirst("Host") + "|"
                            + ex.getRequestHeaders().getFirst("Connection") + "|"
                            + ex.getRequestHeaders().getFirst("User-Agent") + "|" + ex.getRequestURI());
                    (status < 400 ? passedChecks : failedChecks).incrementAndGet();
                    ex.sendResponseHeaders(status, -1);
                    return;
                }
                requests.incrementAndGet();
                if (ex.getRequestURI().getPath().equals("/slow")) {
                    slowInFlight.incrementAndGet();
                    try {
                        slowGate.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                byte[] out = name.getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, out.length);
                ex.getResponseBody().write(out);
            }
        });
        server.setExecutor(pool);
        server.start();
    }

    public static HealthBackend start(String name) throws IOException {
        return new HealthBackend(name, new InetSocketAddress("127.0.0.1", 0));
    }

    /** On another loopback address (127.0.0.2...), e.g. for endpoints that share an agent port. */
    public static HealthBackend start(String name, String host, int port) throws IOException {
        return new HealthBackend(name, new InetSocketAddress(host, port));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String host() {
        return server.getAddress().getAddress().getHostAddress();
    }

    public String address() {
        return host() + ":" + port();
    }

    /** As a process that exits cleanly: stop accepting, let exchanges in progress finish, close the rest. */
    public void stopGracefully() {
        server.stop(1);
        pool.shutdownNow();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
