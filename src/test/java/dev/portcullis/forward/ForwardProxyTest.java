package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ForwardHosts;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The forward proxy, black-box: real clients configured to use it (the JDK HttpClient with a ProxySelector, raw
 * sockets for CONNECT and odd targets), real origins on 127.0.0.1. The origins are local, so most tests turn the
 * private-destination guard off; the guard's own tests keep the default. Names resolve through a hosts file given to
 * the proxy's resolver ({@link ForwardDns#HOSTS_FILE_PROPERTY}, through {@link ForwardHosts}).
 */
class ForwardProxyTest {
    private static TestBackend origin;

    @BeforeAll
    static void names() throws IOException {
        ForwardHosts.install();
        origin = TestBackend.start("origin");
    }

    @AfterAll
    static void cleanUp() {
        origin.close();
    }

    /** A forward listener named {@code fwd} with these {@code forward} keys. */
    static String yaml(String forward) {
        return """
                listeners:
                  - name: fwd
                    bind: 127.0.0.1:0
                    mode: forward
                    forward:
                %s
                """.formatted(forward.indent(6).stripTrailing());
    }

    private static HttpClient through(TestProxy p) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", p.port("fwd"))))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> get(TestProxy p, String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return through(p).send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A raw request line (and headers) to the proxy; everything it answers until it closes or 1 s of silence. */
    private static String raw(TestProxy p, String head) throws IOException {
        return RawHttp.exchange(p.port("fwd"), head, 1000);
    }

    // ---- plain HTTP through the proxy ----

    @Test
    void anAbsoluteFormRequestReachesTheOriginInOriginFormWithItsHost() throws Exception {
        origin.seen.clear();
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            HttpResponse<String> r = get(p, "http://origin.test:" + origin.port() + "/a/b?x=1");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("origin GET /a/b?x=1");
            TestBackend.Seen seen = origin.seen.peek();
            assertThat(seen.uri()).isEqualTo("/a/b?x=1");
            assertThat(seen.header("Host")).isEqualTo("origin.test:" + origin.port());
            // anonymize: standard by default: nothing about the client or the proxy
            assertThat(seen.headers().keySet()).map(String::toLowerCase).doesNotContain("via", "x-forwarded-for",
                    "forwarded", "x-real-ip", "x-request-id", "x-forwarded-proto", "x-forwarded-host");
            // and an IP literal target needs no lookup
            assertThat(get(p, "http://127.0.0.1:" + origin.port() + "/lit").body()).isEqualTo("origin GET /lit");
        }
    }

    @Test
    void keepAliveConnectionsCarryManyRequestsAndBodiesStreamThrough() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            HttpClient c = through(p);
            byte[] body = new byte[300_000];
            new java.util.Random(3).nextBytes(body);
            for (String host : List.of("origin.test", "127.0.0.1")) {
                origin.seen.clear();
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://" + host + ":"
                        + origin.port() + "/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(origin.seen.peek().body()).isEqualTo(body);
            }
        }
    }

    @Test
    void anonymizeOffSendsViaAndXForwardedForAndStrictHidesTheUserAgentAndForeignReferer() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nanonymize: off"))) {
            origin.seen.clear();
            get(p, "http://origin.test:" + origin.port() + "/off");
            TestBackend.Seen seen = origin.seen.peek();
            assertThat(seen.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
            assertThat(seen.header("Via")).contains("portcullis");
        }
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nanonymize: strict"))) {
            origin.seen.clear();
            String base = "http://origin.test:" + origin.port();
            get(p, base + "/strict", "User-Agent", "MyBrowser/1.0 (unique fingerprint)", "From", "me@example.com",
                    "Referer", "http://elsewhere.example/page");
            TestBackend.Seen seen = origin.seen.peek();
            assertThat(seen.header("User-Agent")).startsWith("Mozilla/5.0").doesNotContain("MyBrowser");
            assertThat(seen.header("From")).isNull();
            assertThat(seen.header("Referer")).isNull();
            origin.seen.clear();
            get(p, base + "/strict2", "Referer", base + "/from-here");
            assertThat(origin.seen.peek().header("Referer")).isEqualTo(base + "/from-here");
        }
    }

    @Test
    void proxyCredentialsAndProxyHeadersNeverReachTheOrigin() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nanonymize: off"))) {
            origin.seen.clear();
            String answer = raw(p, "GET http://127.0.0.1:" + origin.port() + "/creds HTTP/1.1\r\nHost: 127.0.0.1:"
                    + origin.port() + "\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Foo: bar\r\n"
                    + "Connection: close\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 200");
            Map<String, List<String>> h = origin.seen.peek().headers();
            assertThat(h.keySet()).map(String::toLowerCase).noneMatch(k -> k.startsWith("proxy-"));
        }
    }

    // ---- CONNECT ----

    @Test
    void connectTunnelsBytesBothWaysToAnAllowedPort() throws Exception {
        origin.seen.clear();
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nconnect_ports: ["
                + origin.port() + "]"));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT origin.test:" + origin.port() + " HTTP/1.1\r\nHost: origin.test:" + origin.port()
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String established = readHead(in);
            assertThat(established).startsWith("HTTP/1.1 200 Connection established\r\n");
            assertThat(established.toLowerCase()).doesNotContain("content-length").doesNotContain("transfer-encoding");
            // a request of the client's own inside the tunnel, untouched by the proxy
            out.write(("GET /inside HTTP/1.1\r\nHost: origin.test\r\nX-Mine: yes\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String inside = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(inside).startsWith("HTTP/1.1 200").endsWith("origin GET /inside");
            assertThat(origin.seen.peek().header("X-Mine")).isEqualTo("yes");
            assertThat(origin.seen.peek().header("Via")).isNull();
        }
    }

    @Test
    void connectToAPortNotListedIsRefusedAndTheConnectionServesOn() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            String answer = raw(p, "CONNECT origin.test:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 403").contains("connect_ports");
            assertThat(raw(p, "CONNECT origin.test HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 400");
        }
    }

    @Test
    void aReverseListenerRefusesConnectAndTheConnectionServesOn() throws Exception {
        try (TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(origin.address()));
             Socket s = new Socket("127.0.0.1", p.port("web"))) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 405").contains("forward mode").contains("origin GET /next");
        }
    }

    // ---- who may use it, where it may go ----

    @Test
    void theGuardRefusesPrivateDestinationsByDefaultInEverySpelling() throws Exception {
        origin.seen.clear();
        try (TestProxy p = TestProxy.start(yaml("connect_ports: [443, " + origin.port() + "]"))) {
            int port = origin.port();
            for (String host : List.of("127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1",
                    "[::1]", "[::ffff:127.0.0.1]", "origin.test", "169.254.169.254", "10.1.2.3")) {
                String answer = raw(p, "GET http://" + host + ":" + port + "/ HTTP/1.1\r\nHost: " + host
                        + "\r\nConnection: close\r\n\r\n");
                assertThat(answer).as(host).startsWith("HTTP/1.1 403");
            }
            assertThat(raw(p, "CONNECT origin.test:" + port + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("deny_private_destinations");
            assertThat(origin.seen).isEmpty(); // nothing reached the origin
        }
    }

    @Test
    void clientsOutsideTheListAreRefused() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nclients: [10.0.0.0/8]"))) {
            HttpResponse<String> r = get(p, "http://origin.test:" + origin.port() + "/");
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("forward.clients");
        }
    }

    @Test
    void domainRulesDenyAndAllowByNameBeforeAnyLookup() throws Exception {
        Path list = Files.createTempFile("deny", ".txt");
        Files.writeString(list, "# ads\nblocked.test\n");
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\n"
                + "deny_domains: [\"*.ads.test\", \"file:" + list + "\"]"))) {
            HttpResponse<String> r = get(p, "http://x.ads.test/");
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("*.ads.test");
            HttpResponse<String> f = get(p, "http://blocked.test:" + origin.port() + "/");
            assertThat(f.statusCode()).isEqualTo(403);
            assertThat(f.body()).contains(list.getFileName().toString());
            assertThat(get(p, "http://origin.test:" + origin.port() + "/ok").statusCode()).isEqualTo(200);
        } finally {
            Files.deleteIfExists(list);
        }
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\n"
                + "allow_domains: [\"*.origin.test\"]"))) {
            assertThat(get(p, "http://www.origin.test:" + origin.port() + "/").statusCode()).isEqualTo(200);
            HttpResponse<String> other = get(p, "http://blocked.test:" + origin.port() + "/");
            assertThat(other.statusCode()).isEqualTo(403);
            assertThat(other.body()).contains("allow_domains");
        }
    }

    @Test
    void badTargetsAreRefusedWithAReason() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            assertThat(raw(p, "GET /local HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 400").contains("absolute-form");
            assertThat(raw(p, "GET https://origin.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 400").contains("CONNECT");
            assertThat(raw(p, "GET http://256.1.1.1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 400").contains("invalid target host");
            assertThat(raw(p, "GET http://no-such-name.invalid/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 502").contains("cannot resolve");
            // the proxy still serves
            assertThat(get(p, "http://origin.test:" + origin.port() + "/after").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theCacheServesRepeatedRequestsThroughTheForwardProxy() throws Exception {
        try (TestBackend cacheable = TestBackend.start("cacheable", ex -> {
            byte[] out = ("n=" + System.nanoTime()).getBytes(StandardCharsets.US_ASCII);
            ex.getResponseHeaders().set("Cache-Control", "public, max-age=60");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        });
             TestProxy p = TestProxy.start("""
                     caches:
                       shared: { memory: 16MiB }
                     """ + yaml("deny_private_destinations: false\ncache: shared"))) {
            String url = "http://origin.test:" + cacheable.port() + "/c";
            HttpResponse<String> first = get(p, url);
            HttpResponse<String> second = get(p, url);
            assertThat(second.body()).isEqualTo(first.body());
            assertThat(second.headers().firstValue("Cache-Status").orElse("")).startsWith("portcullis; hit");
        }
    }

    // ---- proxy authentication ----

    @Test
    void withAuthTheProxyAsksForCredentialsChecksThemAndNeverForwardsThem() throws Exception {
        Path users = Files.createTempFile("proxy-users", ".htpasswd");
        byte[] salt = new byte[16];
        Files.writeString(users, "alice:" + org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2y",
                "wonderland".getBytes(StandardCharsets.UTF_8), salt, 4) + "\n");
        origin.seen.clear();
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nanonymize: off\nconnect_ports: ["
                + origin.port() + "]\nauth: { basic: { htpasswd: " + users + ", realm: corp } }"))) {
            String target = "http://127.0.0.1:" + origin.port() + "/secret";
            String none = raw(p, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(none).startsWith("HTTP/1.1 407");
            assertThat(none.toLowerCase()).contains("proxy-authenticate: basic realm=\"corp\"");
            String wrong = raw(p, "GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + basic("alice", "queen") + "\r\nConnection: close\r\n\r\n");
            assertThat(wrong).startsWith("HTTP/1.1 407");
            String unknown = raw(p, "GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + basic("mallory", "x") + "\r\nConnection: close\r\n\r\n");
            assertThat(unknown).startsWith("HTTP/1.1 407");
            String garbage = raw(p, "GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic !!!"
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(garbage).startsWith("HTTP/1.1 407");
            assertThat(origin.seen).isEmpty();
            String ok = raw(p, "GET " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + basic("alice", "wonderland") + "\r\nConnection: close\r\n\r\n");
            assertThat(ok).startsWith("HTTP/1.1 200");
            assertThat(origin.seen.peek().header("Proxy-Authorization")).isNull();
            // CONNECT asks too
            assertThat(raw(p, "CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                    .startsWith("HTTP/1.1 407");
            // the JDK client answers the challenge itself
            HttpClient c = HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1",
                    p.port("fwd")))).authenticator(new java.net.Authenticator() {
                        @Override
                        protected java.net.PasswordAuthentication getPasswordAuthentication() {
                            return new java.net.PasswordAuthentication("alice", "wonderland".toCharArray());
                        }
                    }).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(target)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        } finally {
            Files.deleteIfExists(users);
        }
    }

    @Test
    void a407AfterTheBodyArrivedKeepsTheConnectionForTheRetry() throws Exception {
        Path users = Files.createTempFile("proxy-users", ".htpasswd");
        Files.writeString(users, "alice:" + org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2y",
                "wonderland".getBytes(StandardCharsets.UTF_8), new byte[16], 4) + "\n");
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nauth: { basic: { htpasswd: "
                + users + " } }"))) {
            // the body came while the password was checked: the request is complete, so the 407 keeps the
            // connection and the client retries on it with the right credentials, as clients do
            String target = "http://127.0.0.1:" + origin.port() + "/retry";
            String both = raw(p, "POST " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + basic("alice", "queen") + "\r\nContent-Length: 3\r\n\r\nabc"
                    + "POST " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + basic("alice", "wonderland") + "\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
            assertThat(both).startsWith("HTTP/1.1 407").contains("HTTP/1.1 200").endsWith("origin POST /retry");
        } finally {
            Files.deleteIfExists(users);
        }
    }

    private static String basic(String user, String password) {
        return java.util.Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
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
