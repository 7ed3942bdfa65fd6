package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ForwardHosts;
import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code forward.parent}: a chain client → Portcullis (forward, parent: P) → P → origin, over real sockets. P is
 * either a second Portcullis forward proxy in this JVM, or a raw parent that records exactly what it was sent and
 * answers as told (to see the request line, the credentials, and answers a Portcullis parent would not give).
 */
class ParentProxyTest {
    private static TestBackend origin;
    /** Echoes every byte back until the other side ends: a CONNECT destination for byte-exact relays. */
    private static RawBackend echo;

    @BeforeAll
    static void start() throws IOException {
        ForwardHosts.install();
        origin = TestBackend.start("origin");
        echo = RawBackend.start((self, in, out) -> in.transferTo(out));
    }

    @AfterAll
    static void stop() throws IOException {
        origin.close();
        echo.close();
    }

    private static String child(String forward) {
        return ForwardProxyTest.yaml(forward);
    }

    /** A second Portcullis forward proxy, as the parent: it reaches the local origins. */
    private static TestProxy parentProxy(String extra) throws Exception {
        return TestProxy.start(child("deny_private_destinations: false\nconnect_ports: [" + origin.port() + ", "
                + echo.port() + "]" + (extra.isEmpty() ? "" : "\n" + extra)));
    }

    /** A raw parent answering every request 200 with a short body; what it was sent is in {@code requests}. */
    private static RawBackend recordingParent() throws IOException {
        return RawBackend.serving((req, out) -> {
            RawBackend.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nparent");
            return true;
        });
    }

    /** A raw parent that answers a CONNECT with {@code answer} (in one write) and, after a 200, echoes. */
    private static RawBackend connectParent(String answer) throws IOException {
        return RawBackend.start((self, in, out) -> {
            Wire.Message req = Wire.readRequest(in);
            if (req == null) {
                return;
            }
            self.requests.add(req);
            RawBackend.write(out, answer);
            if (answer.startsWith("HTTP/1.1 200")) {
                in.transferTo(out);
            }
        });
    }

    private static HttpClient through(TestProxy p) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", p.port("fwd"))))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> get(HttpClient c, String url) throws Exception {
        return c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String raw(TestProxy p, String head) throws IOException {
        return RawHttp.exchange(p.port("fwd"), head, 2000);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // ---- absolute-form requests ----

    @Test
    void absoluteFormRequestsReachTheParentInAbsoluteFormWithItsCredentialsOverOneKeptAliveConnection()
            throws Exception {
        try (RawBackend parent = recordingParent();
             TestProxy p = TestProxy.start(child("parent: { address: " + parent.address()
                     + ", auth: { basic: { user: chain, password: \"s3cr:et\" } } }"))) {
            // the default guard is on: the parent's own loopback address is still reached (the operator chose it)
            HttpClient c = through(p);
            assertThat(get(c, "http://origin.test:8080/a?b=1").body()).isEqualTo("parent");
            assertThat(get(c, "http://origin.test/x").body()).isEqualTo("parent");
            assertThat(get(c, "http://www.origin.test:8081/y").body()).isEqualTo("parent");
            assertThat(parent.accepted.get()).isEqualTo(1);
            Wire.Message first = parent.requests.poll();
            assertThat(first.startLine()).isEqualTo("GET http://origin.test:8080/a?b=1 HTTP/1.1");
            assertThat(first.header("Host")).isEqualTo("origin.test:8080");
            assertThat(first.header("Proxy-Authorization")).isEqualTo(basic("chain", "s3cr:et"));
            assertThat(first.headerNames()).doesNotContain("via", "x-forwarded-for", "forwarded");
            Wire.Message second = parent.requests.poll();
            assertThat(second.startLine()).isEqualTo("GET http://origin.test/x HTTP/1.1");
            assertThat(second.header("Host")).isEqualTo("origin.test");
            assertThat(parent.requests.poll().startLine()).isEqualTo("GET http://www.origin.test:8081/y HTTP/1.1");
            // the client's own credentials are for this proxy: the parent gets this proxy's, never the client's
            assertThat(raw(p, "GET http://Origin.TEST.:8080/z HTTP/1.1\r\nHost: elsewhere\r\n"
                    + "Proxy-Authorization: " + basic("client", "pw") + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            Wire.Message fourth = parent.requests.poll();
            // the host as this proxy read it, so both proxies judge the same destination
            assertThat(fourth.startLine()).isEqualTo("GET http://origin.test:8080/z HTTP/1.1");
            assertThat(fourth.header("Host")).isEqualTo("origin.test:8080");
            assertThat(fourth.header("Proxy-Authorization")).isEqualTo(basic("chain", "s3cr:et"));
        }
    }

    @Test
    void addressesAreSentInTheirUsualFormWhateverTheClientsSpelling() throws Exception {
        try (RawBackend parent = recordingParent();
             TestProxy p = TestProxy.start(child("allow_private: [127.0.0.0/8]\nparent: { address: "
                     + parent.address() + " }"))) {
            for (String spelling : new String[] {"0x7f.1", "2130706433", "127.000.0.1", "[::ffff:127.0.0.1]"}) {
                assertThat(raw(p, "GET http://" + spelling + ":8080/odd HTTP/1.1\r\nHost: x\r\nConnection: close"
                        + "\r\n\r\n")).as(spelling).startsWith("HTTP/1.1 200");
                Wire.Message seen = parent.requests.poll();
                assertThat(seen.startLine()).as(spelling).isEqualTo("GET http://127.0.0.1:8080/odd HTTP/1.1");
                assertThat(seen.header("Proxy-Authorization")).isNull();
            }
        }
    }

    @Test
    void aChainThroughASecondPortcullisReachesTheOriginAndStreamsBodies() throws Exception {
        try (TestProxy parent = parentProxy("");
             TestProxy p = TestProxy.start(child("parent: { address: 127.0.0.1:" + parent.port("fwd") + " }"))) {
            origin.seen.clear();
            HttpClient c = through(p);
            HttpResponse<String> r = get(c, "http://origin.test:" + origin.port() + "/chain?q=1");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("origin GET /chain?q=1");
            TestBackend.Seen seen = origin.seen.poll();
            assertThat(seen.uri()).isEqualTo("/chain?q=1");
            assertThat(seen.header("Host")).isEqualTo("origin.test:" + origin.port());
            assertThat(seen.headers().keySet()).map(String::toLowerCase).noneMatch(k -> k.startsWith("proxy-"));
            byte[] body = new byte[300_000];
            new Random(5).nextBytes(body);
            HttpResponse<String> post = c.send(HttpRequest.newBuilder(URI.create("http://origin.test:"
                    + origin.port() + "/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(origin.seen.poll().body()).isEqualTo(body);
        }
    }

    @Test
    void theCacheKeepsWorkingThroughTheParent() throws Exception {
        try (TestBackend cacheable = TestBackend.start("cacheable", ex -> {
            byte[] out = ("n=" + System.nanoTime()).getBytes(StandardCharsets.US_ASCII);
            ex.getResponseHeaders().set("Cache-Control", "public, max-age=60");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        });
             TestProxy parent = parentProxy("");
             TestProxy p = TestProxy.start("caches:\n  shared: { memory: 16MiB }\n" + child("cache: shared\n"
                     + "parent: { address: 127.0.0.1:" + parent.port("fwd") + " }"))) {
            HttpClient c = through(p);
            String url = "http://origin.test:" + cacheable.port() + "/c";
            HttpResponse<String> first = get(c, url);
            HttpResponse<String> second = get(c, url);
            assertThat(first.body()).startsWith("n=");
            assertThat(second.body()).isEqualTo(first.body());
            assertThat(second.headers().firstValue("Cache-Status").orElse("")).startsWith("portcullis; hit");
        }
    }

    // ---- CONNECT ----

    @Test
    void connectGoesThroughTheParentAndRelaysBytesExactlyBothWays() throws Exception {
        try (TestProxy parent = parentProxy("");
             TestProxy p = TestProxy.start(child("connect_ports: [" + echo.port() + "]\nparent: { address: "
                     + "127.0.0.1:" + parent.port("fwd") + " }"));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("CONNECT origin.test:" + echo.port() + " HTTP/1.1\r\nHost: origin.test:" + echo.port()
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in)).startsWith("HTTP/1.1 200 Connection established\r\n");
            byte[] data = new byte[256 * 1024];
            new Random(7).nextBytes(data);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(data);
                    out.flush();
                    s.shutdownOutput(); // the FIN travels through both proxies; the echo then ends
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            in.transferTo(back); // until the echo's end comes back through the chain
            writer.get(10, TimeUnit.SECONDS);
            assertThat(back.toByteArray()).isEqualTo(data);
        }
    }

    @Test
    void theParentIsAskedForTheCheckedHostAndBytesRightAfterItsAnswerAreNotLost() throws Exception {
        try (RawBackend parent = connectParent("HTTP/1.1 200 Connection established\r\n\r\nbanner\n");
             TestProxy p = TestProxy.start(child("parent: { address: " + parent.address()
                     + ", auth: { basic: { user: chain, password: pw } } }"));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("CONNECT WWW.Origin.Test.:443 HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic Y2xpOnB3\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in)).startsWith("HTTP/1.1 200 Connection established\r\n");
            assertThat(new String(in.readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("banner\n");
            out.write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
            Wire.Message asked = parent.requests.poll();
            assertThat(asked.startLine()).isEqualTo("CONNECT www.origin.test:443 HTTP/1.1");
            assertThat(asked.header("Host")).isEqualTo("www.origin.test:443");
            assertThat(asked.header("Proxy-Authorization")).isEqualTo(basic("chain", "pw"));
        }
    }

    // ---- refusals, failures ----

    @Test
    void theParentsRefusalsReachTheClientAndTheConnectionServesOn() throws Exception {
        try (TestProxy parent = parentProxy("deny_domains: [blocked.test]");
             TestProxy p = TestProxy.start(child("connect_ports: [" + echo.port() + "]\nparent: { address: "
                     + "127.0.0.1:" + parent.port("fwd") + " }"));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            HttpResponse<String> denied = get(through(p), "http://blocked.test:" + origin.port() + "/");
            assertThat(denied.statusCode()).isEqualTo(403);
            assertThat(denied.body()).contains("blocked.test"); // the parent's own words
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("CONNECT blocked.test:" + echo.port() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Wire.Message refused = Wire.readResponse(in, false);
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.bodyText()).contains("blocked.test");
            // the CONNECT did not happen: what follows on the connection is HTTP again
            out.write(("GET http://origin.test:" + origin.port() + "/after HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Wire.Message after = Wire.readResponse(in, false);
            assertThat(after.status()).isEqualTo(200);
            assertThat(after.bodyText()).isEqualTo("origin GET /after");
        }
    }

    @Test
    void aParentAskingForCredentialsIsPassedOnWithoutItsChallenge() throws Exception {
        String answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"parent\"\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nwho are you?\n";
        try (RawBackend parent = connectParent(answer);
             TestProxy p = TestProxy.start(child("parent: { address: " + parent.address() + " }"))) {
            String r = raw(p, "CONNECT origin.test:443 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 407").endsWith("who are you?\n");
            assertThat(r.toLowerCase()).contains("content-type: text/plain").doesNotContain("proxy-authenticate");
        }
        try (RawBackend parent = RawBackend.serving((req, out) -> {
            RawBackend.write(out, answer);
            return true;
        });
             TestProxy p = TestProxy.start(child("parent: { address: " + parent.address() + " }"))) {
            String r = raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 407").endsWith("who are you?\n");
            assertThat(r.toLowerCase()).doesNotContain("proxy-authenticate");
        }
    }

    @Test
    void localRulesApplyBeforeTheParentIsAsked() throws Exception {
        try (RawBackend parent = recordingParent();
             TestProxy p = TestProxy.start(child("deny_domains: [\"*.ads.test\"]\nparent: { address: "
                     + parent.address() + " }"))) {
            assertThat(raw(p, "GET http://x.ads.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("*.ads.test");
            assertThat(raw(p, "CONNECT x.ads.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 403");
            assertThat(raw(p, "CONNECT origin.test:25 HTTP/1.1\r\nHost: x\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("connect_ports");
            // the guard judges addresses the client wrote, in any spelling
            for (String host : new String[] {"127.0.0.1", "0x7f.1", "[::ffff:169.254.169.254]", "10.1.2.3"}) {
                assertThat(raw(p, "GET http://" + host + "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                        .as(host).startsWith("HTTP/1.1 403").contains("deny_private_destinations");
            }
            assertThat(raw(p, "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 403");
            assertThat(parent.accepted.get()).isZero();
            // a name is the parent's to resolve (and to judge): it is passed on
            assertThat(raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(parent.requests.poll().startLine()).isEqualTo("GET http://origin.test/ HTTP/1.1");
        }
        try (RawBackend parent = recordingParent();
             TestProxy p = TestProxy.start(child("clients: [10.0.0.0/8]\nparent: { address: " + parent.address()
                     + " }"))) {
            assertThat(raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("forward.clients");
            assertThat(parent.accepted.get()).isZero();
        }
    }

    @Test
    void aParentThatIsDownGets502NamingItAndTheProxyServesOn() throws Exception {
        int down = freePort();
        try (TestProxy p = TestProxy.start(child("parent: { address: 127.0.0.1:" + down + " }"))) {
            String get = raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 502").contains("parent proxy 127.0.0.1:" + down)
                    .contains("connection refused");
            String connect = raw(p, "CONNECT origin.test:443 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(connect).startsWith("HTTP/1.1 502").contains("parent proxy 127.0.0.1:" + down)
                    .contains("connection refused");
            assertThat(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void aParentThatNeverAnswersGets504NamingItAfterTheIdleTimeout() throws Exception {
        try (RawBackend parent = RawBackend.start((self, in, out) -> in.transferTo(OutputStream.nullOutputStream()));
             TestProxy p = TestProxy.start("""
                     listeners:
                       - name: fwd
                         bind: 127.0.0.1:0
                         mode: forward
                         limits: { idle_timeout: 1s }
                         forward: { parent: { address: %s } }
                     """.formatted(parent.address()))) {
            String connect = RawHttp.exchange(p.port("fwd"), "CONNECT origin.test:443 HTTP/1.1\r\nHost: x\r\n\r\n",
                    10_000);
            assertThat(connect).startsWith("HTTP/1.1 504").contains("parent proxy " + parent.address());
            String get = RawHttp.exchange(p.port("fwd"), "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\n\r\n",
                    10_000);
            assertThat(get).startsWith("HTTP/1.1 504").contains("parent proxy " + parent.address());
        }
    }

    @Test
    void aParentNamedByItsHostNameIsResolvedAndABadNameIs502() throws Exception {
        try (TestProxy parent = parentProxy("");
             TestProxy p = TestProxy.start(child("connect_ports: [" + echo.port() + "]\nparent: { address: "
                     + "parent.test:" + parent.port("fwd") + " }"))) {
            assertThat(get(through(p), "http://origin.test:" + origin.port() + "/named").body())
                    .isEqualTo("origin GET /named");
        }
        try (TestProxy p = TestProxy.start(child("parent: { address: no-such-parent.invalid:3128 }"))) {
            String r = raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 502").contains("parent proxy no-such-parent.invalid:3128")
                    .contains("cannot resolve");
            assertThat(raw(p, "CONNECT origin.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 502")
                    .contains("cannot resolve");
        }
    }

    @Test
    void aParentThatIsThisListenerIsRefusedAsALoop() throws Exception {
        int port = freePort();
        try (TestProxy p = TestProxy.start(child("parent: { address: 127.0.0.1:" + port + " }")
                .replace("bind: 127.0.0.1:0", "bind: 127.0.0.1:" + port))) {
            String r = raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 502").contains("forwarding loop");
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return sb.toString();
    }
}
