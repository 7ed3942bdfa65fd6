package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestProxy;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Server-Sent Events and long polls pass unbuffered: each piece the backend writes reaches the client before the
 * backend writes the next one (the backend waits for the client to have seen it, so a proxy that held anything
 * back would stall the test), and a stream that stays active is never cut by idle_timeout.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StreamingEventsTest {
    private static final int EVENTS = 5;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private ScriptedBackend backend;
    private TestProxy proxy;
    /** Set by the backend when the client did not see a piece in time (the proxy held it back). */
    private final AtomicReference<String> backendProblem = new AtomicReference<>();

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** The proxy in front of the backend; listener {@code web} with the given idle_timeout. */
    private void start(ScriptedBackend.Script script, String idleTimeout) throws Exception {
        backend = ScriptedBackend.start(script);
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    limits: { idle_timeout: %s }
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(idleTimeout, backend.address()));
    }

    private static void write(OutputStream out, String text) throws Exception {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

    /** Waits until the client saw {@code what}; else records the problem and closes, so the client is not stuck. */
    private void await(CountDownLatch latch, String what, Socket s) throws Exception {
        if (!latch.await(15, TimeUnit.SECONDS)) {
            backendProblem.compareAndSet(null, "the client did not see " + what + " within 15 s");
            s.close();
            throw new IllegalStateException(what);
        }
    }

    /**
     * text/event-stream, chunked or delimited by the backend closing: event i is written only after the client
     * read event i-1 through the proxy.
     */
    @ParameterizedTest
    @ValueSource(strings = {"chunked", "close"})
    void eachEventArrivesBeforeTheNextIsWritten(String framing) throws Exception {
        CountDownLatch[] seen = new CountDownLatch[EVENTS];
        for (int i = 0; i < EVENTS; i++) {
            seen[i] = new CountDownLatch(1);
        }
        boolean chunked = framing.equals("chunked");
        start((Socket s, int index) -> {
            backend.readHead(s);
            OutputStream out = s.getOutputStream();
            write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    + (chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n") + "\r\n");
            for (int i = 0; i < EVENTS; i++) {
                String event = "id: " + i + "\ndata: event " + i + "\n\n";
                write(out, chunked ? chunk(event) : event);
                await(seen[i], "event " + i, s);
            }
            if (chunked) {
                write(out, "0\r\n\r\n");
            }
            s.close();
        }, "60s");
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(proxy.uri("web", "/events"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream");
        int next = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    assertThat(line).isEqualTo("data: event " + next);
                    seen[next].countDown();
                    next++;
                }
            }
        } catch (java.io.IOException e) {
            assertThat(backendProblem.get()).isNull(); // names what the proxy held back
            throw e;
        }
        assertThat(backendProblem.get()).isNull();
        assertThat(next).isEqualTo(EVENTS);
    }

    /** Events every 300 ms for 3 s through a listener whose idle_timeout is 1 s: the active stream is not cut. */
    @Test
    void anActiveStreamOutlivesIdleTimeout() throws Exception {
        int events = 10;
        start((Socket s, int index) -> {
            backend.readHead(s);
            OutputStream out = s.getOutputStream();
            write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < events; i++) {
                Thread.sleep(300);
                write(out, chunk("data: tick " + i + "\n\n"));
            }
            write(out, "0\r\n\r\n");
        }, "1s");
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(proxy.uri("web", "/ticks")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().lines().filter(l -> l.startsWith("data: ")).count()).isEqualTo(events);
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(2500);
    }

    /** A long poll: the backend answers after 2 s of silence; the answer is relayed as it is. */
    @Test
    void longPollAnsweredAfterTwoSeconds() throws Exception {
        start((Socket s, int index) -> {
            backend.readHead(s);
            Thread.sleep(2000);
            write(s.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
                    + "\r\n{\"news\":\"yes\"}\n");
        }, "10s");
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(proxy.uri("web", "/poll")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"news\":\"yes\"}\n");
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(1900);
    }

    /**
     * A long poll that sends its head at once and its body 2 s later (chunked), and a fixed-length body sent in
     * two halves: the client gets the head, then each half, before the backend writes what follows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"chunked", "length"})
    void headAndEachPieceArriveBeforeTheNext(String framing) throws Exception {
        CountDownLatch headSeen = new CountDownLatch(1);
        CountDownLatch firstSeen = new CountDownLatch(1);
        boolean chunked = framing.equals("chunked");
        start((Socket s, int index) -> {
            backend.readHead(s);
            OutputStream out = s.getOutputStream();
            write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 10\r\n") + "\r\n");
            await(headSeen, "the response head", s);
            Thread.sleep(2000);
            write(out, chunked ? chunk("first") : "first");
            await(firstSeen, "the first half", s);
            write(out, chunked ? chunk("later") + "0\r\n\r\n" : "later");
        }, "10s");
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(proxy.uri("web", "/poll")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        headSeen.countDown();
        String first;
        String rest;
        try (InputStream in = r.body()) {
            first = new String(in.readNBytes(5), StandardCharsets.US_ASCII);
            firstSeen.countDown();
            rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (java.io.IOException e) {
            assertThat(backendProblem.get()).isNull();
            throw e;
        }
        assertThat(backendProblem.get()).isNull();
        assertThat(first).isEqualTo("first");
        assertThat(rest).isEqualTo("later");
    }
}
