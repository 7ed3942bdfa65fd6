package dev.portcullis.testing;

import com.sun.net.httpserver.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An origin for cache tests: answers each request with what the script returns for it and counts the requests per
 * method and target ({@code "GET /a?x=1"}), so a test proves a hit by the origin NOT seeing the request.
 */
public final class CountingOrigin implements AutoCloseable {
    /** What the origin saw. */
    public record Request(String method, String uri, Headers headers) {
        public String header(String name) {
            return headers.getFirst(name);
        }
    }

    /**
     * What it answers: {@code body} null for none (204, 304); {@code delayMillis} before the head is sent. A header
     * name given twice to {@link #ok} is sent as two field lines (kept in {@code headers} joined by a line feed,
     * which no field value can contain).
     */
    public record Reply(int status, Map<String, String> headers, byte[] body, long delayMillis) {
        public static Reply ok(String body, String... headerPairs) {
            Map<String, String> h = new LinkedHashMap<>();
            for (int i = 0; i < headerPairs.length; i += 2) {
                h.merge(headerPairs[i], headerPairs[i + 1], (a, b) -> a + "\n" + b);
            }
            return new Reply(200, h, body.getBytes(StandardCharsets.UTF_8), 0);
        }

        public Reply status(int s) {
            return new Reply(s, headers, body, delayMillis);
        }

        public Reply delay(long millis) {
            return new Reply(status, headers, body, millis);
        }

        public Reply body(byte[] b) {
            return new Reply(status, headers, b, delayMillis);
        }
    }

    private final TestBackend backend;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    public final ConcurrentLinkedQueue<Request> seen = new ConcurrentLinkedQueue<>();

    private CountingOrigin(Function<Request, Reply> script) throws IOException {
        backend = TestBackend.start("origin", ex -> {
            TestBackend.drain(ex);
            Request r = new Request(ex.getRequestMethod(), ex.getRequestURI().toString(), ex.getRequestHeaders());
            seen.add(r);
            counts.computeIfAbsent(r.method() + " " + r.uri(), k -> new AtomicInteger()).incrementAndGet();
            Reply reply = script.apply(r);
            if (reply.delayMillis() > 0) {
                try {
                    Thread.sleep(reply.delayMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            reply.headers().forEach((k, v) -> {
                for (String line : v.split("\n", -1)) {
                    ex.getResponseHeaders().add(k, line);
                }
            });
            byte[] body = reply.body();
            boolean none = body == null || "HEAD".equals(r.method()) || reply.status() == 204
                    || reply.status() == 304;
            ex.sendResponseHeaders(reply.status(), none ? -1 : body.length == 0 ? -1 : body.length);
            if (!none && body.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        });
    }

    public static CountingOrigin start(Function<Request, Reply> script) throws IOException {
        return new CountingOrigin(script);
    }

    /** Requests seen for {@code "METHOD /target"}. */
    public int count(String methodAndTarget) {
        AtomicInteger n = counts.get(methodAndTarget);
        return n == null ? 0 : n.get();
    }

    public int total() {
        return seen.size();
    }

    public List<Request> requests() {
        return List.copyOf(seen);
    }

    public String address() {
        return backend.address();
    }

    @Override
    public void close() {
        backend.close();
    }
}
