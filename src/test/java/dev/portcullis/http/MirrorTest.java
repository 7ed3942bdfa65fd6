package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.observe.MirrorStats;
import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.ScriptedBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import dev.portcullis.upstream.Upstream;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Route {@code mirror}: copies of requests to another upstream, answers dropped, the real request never held up. */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MirrorTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    /** Released at the end: backends that hang wait on it. */
    private final CountDownLatch end = new CountDownLatch(1);
    private TestProxy proxy;

    @AfterEach
    void stop() throws Exception {
        end.countDown();
        if (proxy != null) {
            proxy.close();
        }
        for (AutoCloseable c : closeLater) {
            c.close();
        }
    }

    /** Answers every request with its name and {@code extra} bytes more (in one write), recording the requests. */
    private RawBackend backend(String name, int extra) throws Exception {
        byte[] body = (name + "x".repeat(extra)).getBytes(StandardCharsets.ISO_8859_1);
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] reply = new byte[head.length + body.length];
        System.arraycopy(head, 0, reply, 0, head.length);
        System.arraycopy(body, 0, reply, head.length, body.length);
        RawBackend b = RawBackend.serving((req, out) -> {
            out.write(reply, 0, req.startLine().startsWith("HEAD ") ? head.length : reply.length);
            return true;
        });
        closeLater.add(b);
        return b;
    }

    private RawBackend hanging(boolean readsRequest) throws Exception {
        RawBackend b = RawBackend.start((self, in, out) -> {
            if (readsRequest) {
                Wire.Message m = Wire.readRequest(in);
                if (m != null) {
                    self.requests.add(m);
                }
            }
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        closeLater.add(b);
        return b;
    }

    private void start(String mainAddress, String mirrorAddress, String percent, String routeExtra) throws Exception {
        proxy = TestProxy.start(yaml(mainAddress, mirrorAddress, percent, routeExtra));
    }

    private static String yaml(String mainAddress, String mirrorAddress, String percent, String routeExtra) {
        return """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: r
                        match: { path_prefix: / }
                        upstream: main
                        mirror: { upstream: shadow, percent: %s }%s
                upstreams:
                  main: { endpoints: [%s] }
                  shadow: { endpoints: [%s], connect_timeout: 2s }
                """.formatted(percent, routeExtra, mainAddress, mirrorAddress);
    }

    private long mirrored(MirrorStats.Result result) {
        return proxy.process().metrics().mirror("web", "r", "shadow").count(result);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return client.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(proxy.uri("web", path));
    }

    private static List<Wire.Message> byTestHeader(RawBackend b) {
        return b.requests.stream().sorted(java.util.Comparator.comparingInt(m -> Integer.parseInt(m.header("X-Test"))))
                .toList();
    }

    /** Headers as sorted "name: value" lines, Host left out. */
    private static List<String> headersBut(Wire.Message m, String left) {
        return m.headers().stream().filter(h -> !h[0].equalsIgnoreCase(left))
                .map(h -> h[0].toLowerCase(Locale.ROOT) + ": " + h[1]).sorted().toList();
    }

    @Test
    void everyRequestIsCopiedWithTheSameHeadersAndBody() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = backend("shadow", 200_000); // a long answer, read and dropped
        start(main.address(), shadow.address(), "100", "\n        headers: { request: { set: { X-Filtered: yes } } }");
        byte[] mib = new byte[1024 * 1024];
        new Random(7).nextBytes(mib);
        List<HttpRequest.Builder> requests = List.of(
                // 1 MiB first, while no mirror connection is pooled yet
                request("/upload").POST(HttpRequest.BodyPublishers.ofByteArray(mib)),
                request("/a?x=1").GET(),
                request("/b").POST(HttpRequest.BodyPublishers.ofString("small body")),
                request("/c").PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(mib))),
                request("/d").DELETE(),
                request("/e").method("HEAD", HttpRequest.BodyPublishers.noBody()),
                request("/upload2").POST(HttpRequest.BodyPublishers.ofByteArray(mib)));
        for (int i = 0; i < requests.size(); i++) {
            HttpResponse<String> r = send(requests.get(i).header("X-Test", String.valueOf(i)));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isIn("main", ""); // HEAD has no body
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> shadow.requests.size() == requests.size());
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.OK) == requests.size());
        // copies travel on several connections, so they may arrive out of order: match them by X-Test
        List<Wire.Message> seenMain = byTestHeader(main);
        List<Wire.Message> seenShadow = byTestHeader(shadow);
        for (int i = 0; i < requests.size(); i++) {
            Wire.Message m = seenMain.get(i);
            Wire.Message s = seenShadow.get(i);
            assertThat(s.startLine()).isEqualTo(m.startLine());
            assertThat(s.body()).as(m.startLine()).isEqualTo(m.body());
            assertThat(s.framing()).isEqualTo(m.framing());
            assertThat(s.header("Host")).isEqualTo(m.header("Host").replace(":", "-shadow:"))
                    .isEqualTo("127.0.0.1-shadow:" + proxy.port("web"));
            assertThat(headersBut(s, "Host")).isEqualTo(headersBut(m, "Host")).contains("x-filtered: yes");
        }
        assertThat(seenShadow.get(0).body()).isEqualTo(mib);
        assertThat(seenShadow.get(3).framing()).isEqualTo("chunked");
        assertThat(mirrored(MirrorStats.Result.FAILED) + mirrored(MirrorStats.Result.ABANDONED)).isZero();
        // answers were read to their end: the mirror connection was pooled and reused
        assertThat(shadow.accepted.get()).isLessThan(requests.size());
    }

    @Test
    void pipelinedRequestsAreBothCopied() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = backend("shadow", 0);
        start(main.address(), shadow.address(), "100%", "");
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /one HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nfirst"
                    + "POST /two HTTP/1.1\r\nHost: h:81\r\nContent-Length: 6\r\n\r\nsecond").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(Wire.readResponse(s.getInputStream(), false).bodyText()).isEqualTo("main");
            assertThat(Wire.readResponse(s.getInputStream(), false).bodyText()).isEqualTo("main");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> shadow.requests.size() == 2);
        List<Wire.Message> seen = new ArrayList<>(shadow.requests);
        assertThat(seen.get(0).bodyText()).isEqualTo("first");
        assertThat(seen.get(0).header("Host")).isEqualTo("h-shadow");
        assertThat(seen.get(1).bodyText()).isEqualTo("second");
        assertThat(seen.get(1).header("Host")).isEqualTo("h-shadow:81");
    }

    @Test
    void deadMirrorNeitherFailsNorSlowsTheRealRequests() throws Exception {
        RawBackend main = backend("main", 0);
        start(main.address(), "127.0.0.1:" + ScriptedBackend.closedPort(), "100", "");
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = send(request("/d" + i).POST(HttpRequest.BodyPublishers.ofString("body " + i)));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("main");
        }
        assertThat(main.requests).hasSize(20);
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.FAILED) == 20);
    }

    @Test
    void hangingMirrorDoesNotHoldUpTheRealRequests() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = hanging(true);
        // The copies may wait 30 s for an answer; 20 real requests must not wait for them.
        start(main.address(), shadow.address(), "100", "\n        timeout: 30s");
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = send(request("/h" + i));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("main");
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("20 requests with a hanging mirror took " + millis + " ms");
        assertThat(millis).as("far below one mirror timeout").isLessThan(15_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> shadow.requests.size() == 20);
        assertThat(mirrored(MirrorStats.Result.OK)).isZero();
    }

    @Test
    void mirrorThatDoesNotReadIsAbandonedAndTheUploadCompletes() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = hanging(false);
        start(main.address(), shadow.address(), "100", "\n        timeout: 60s");
        byte[] big = new byte[16 * 1024 * 1024];
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = send(request("/big").POST(HttpRequest.BodyPublishers.ofByteArray(big)));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("main");
        }
        assertThat(main.requests).allSatisfy(m -> assertThat(m.body()).hasSize(big.length));
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.ABANDONED) == 3);
    }

    @Test
    void mirrorCircuitBreakerCapsTheCopiesInFlight() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = hanging(true);
        proxy = TestProxy.start(yaml(main.address(), shadow.address(), "100", "\n        timeout: 30s")
                .replace("connect_timeout: 2s", "connect_timeout: 2s, circuit_breaker: { max_requests: 2 }"));
        for (int i = 0; i < 6; i++) {
            assertThat(send(request("/cb" + i)).statusCode()).isEqualTo(200);
        }
        assertThat(mirrored(MirrorStats.Result.SKIPPED)).isEqualTo(4);
        await().atMost(Duration.ofSeconds(10)).until(() -> shadow.requests.size() == 2);
        assertThat(proxy.process().snapshot().upstreams().get("shadow").breaker().requests()).isEqualTo(2);
    }

    @Test
    void copiesTimeOutWithTheRoute() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = hanging(true);
        start(main.address(), shadow.address(), "100", "\n        timeout: 500ms");
        for (int i = 0; i < 3; i++) {
            assertThat(send(request("/t" + i)).statusCode()).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.TIMEOUT) == 3);
        Upstream shadowUpstream = proxy.process().snapshot().upstreams().get("shadow");
        assertThat(shadowUpstream.breaker().requests()).as("every copy's count given back").isZero();
        assertThat(shadowUpstream.endpoints().get(0).state().inFlight()).isZero();
    }

    @Test
    void clientLeavingMidBodyDropsTheCopy() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = backend("shadow", 0);
        start(main.address(), shadow.address(), "100", "");
        try (Socket s = new Socket("127.0.0.1", proxy.port("web"))) {
            s.getOutputStream().write(("POST /cut HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + "y".repeat(5000))
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            Thread.sleep(200);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.ABANDONED) == 1);
        // the proxy goes on serving, mirror included
        RawExchange.Result r = RawExchange.send(proxy.port("web"), "GET /after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                5000);
        assertThat(r.status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.OK) == 1);
    }

    @Test
    void percentIsHonoured() throws Exception {
        RawBackend main = backend("main", 0);
        RawBackend shadow = backend("shadow", 0);
        start(main.address(), shadow.address(), "0", "");
        for (int i = 0; i < 200; i++) {
            assertThat(send(request("/p")).statusCode()).isEqualTo(200);
        }
        assertThat(shadow.requests).isEmpty();
        assertThat(proxy.reload(yaml(main.address(), shadow.address(), "50", "")))
                .isInstanceOf(dev.portcullis.admin.ReloadOutcome.Applied.class);
        int n = 400;
        for (int i = 0; i < n; i++) {
            assertThat(send(request("/p")).statusCode()).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> mirrored(MirrorStats.Result.OK) == shadow.requests.size());
        Thread.sleep(300); // a last copy may still be on its way; the bounds below are loose anyway
        int copies = shadow.requests.size();
        System.out.println("mirror 50%: " + copies + " of " + n);
        // binomial sd is 10 here: 140..260 is 6 sd either side
        assertThat(copies).isBetween(140, 260);
        assertThat(main.requests).hasSize(200 + n);
    }
}
