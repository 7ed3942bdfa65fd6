package dev.portcullis.l4.socks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.forward.ForwardDns;
import dev.portcullis.testing.Curl;
import dev.portcullis.testing.EchoServer;
import dev.portcullis.testing.Socks5Client;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.ForwardHosts;
import dev.portcullis.testing.TestProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SOCKS5 listeners, black-box: curl ({@code --socks5-hostname}, {@code --socks5}, {@code --proxy-user}) and a raw
 * SOCKS5 client for what curl does not send, against real origins on 127.0.0.1 and ::1. The origins are local, so
 * most tests turn the private-destination guard off; the guard's own test keeps the default. Names resolve through a
 * hosts file given to the proxy's resolver ({@link ForwardDns#HOSTS_FILE_PROPERTY}). After each refusal, the
 * process is shown to still serve.
 */
class SocksProxyTest {
    private static TestBackend origin;
    private static EchoServer echo;

    @BeforeAll
    static void names() throws IOException {
        ForwardHosts.install();
        origin = TestBackend.start("origin");
        echo = EchoServer.start("127.0.0.1");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        origin.close();
        echo.close();
    }

    private static String yaml(String forward) {
        return yaml(forward, "");
    }

    private static String yaml(String forward, String listenerExtra) {
        return """
                listeners:
                  - name: socks
                    bind: 127.0.0.1:0
                    protocol: socks5
                %s
                    forward:
                %s
                """.formatted(listenerExtra.indent(4).stripTrailing(), forward.indent(6).stripTrailing());
    }

    private static final String OPEN = "deny_private_destinations: false";

    // ---- curl ----

    @Test
    void curlReachesTheOriginWithSocks5HostnameAndSocks5() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN))) {
            origin.seen.clear();
            Curl named = Curl.run("--socks5-hostname", "127.0.0.1:" + p.port("socks"),
                    "http://origin.test:" + origin.port() + "/by-name?x=1");
            assertThat(named.exit()).as(named.stderr()).isZero();
            assertThat(named.out()).isEqualTo("origin GET /by-name?x=1");
            // the origin sees the client's own request, nothing added by the proxy
            TestBackend.Seen seen = origin.seen.poll();
            assertThat(seen.header("Host")).isEqualTo("origin.test:" + origin.port());
            assertThat(seen.headers().keySet()).map(String::toLowerCase).doesNotContain("via", "x-forwarded-for",
                    "forwarded");
            // curl resolves the name itself and sends the address (IPv4 address type)
            Curl addressed = Curl.run("--socks5", "127.0.0.1:" + p.port("socks"),
                    "http://127.0.0.1:" + origin.port() + "/by-address");
            assertThat(addressed.exit()).as(addressed.stderr()).isZero();
            assertThat(addressed.out()).isEqualTo("origin GET /by-address");
        }
    }

    @Test
    void proxyUserRightWrongAndMissingWithAUtf8UserName() throws Exception {
        Path users = Files.createTempFile("socks-users", ".htpasswd");
        Files.writeString(users, "alice:" + bcrypt("wonderland") + "\njürgen:" + bcrypt("pässwort") + "\n");
        try (TestProxy p = TestProxy.start(yaml(OPEN + "\nauth: { basic: { htpasswd: " + users + " } }"))) {
            String proxy = "127.0.0.1:" + p.port("socks");
            String url = "http://origin.test:" + origin.port() + "/secret";
            origin.seen.clear();
            Curl right = Curl.run("--socks5-hostname", proxy, "--proxy-user", "alice:wonderland", url);
            assertThat(right.exit()).as(right.stderr()).isZero();
            assertThat(right.out()).isEqualTo("origin GET /secret");
            origin.seen.clear();
            Curl wrong = Curl.run("--socks5-hostname", proxy, "--proxy-user", "alice:queen", url);
            assertThat(wrong.exit()).isNotZero();
            assertThat(wrong.stderr()).containsIgnoringCase("rejected");
            Curl missing = Curl.run("--socks5-hostname", proxy, url);
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.stderr()).containsIgnoringCase("authentication method");
            Curl unknown = Curl.run("--socks5-hostname", proxy, "--proxy-user", "mallory:x", url);
            assertThat(unknown.exit()).isNotZero();
            assertThat(origin.seen).isEmpty();

            // RFC 1929 by hand: a UTF-8 user name and password are read as the UTF-8 the htpasswd file holds
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                assertThat(c.greet(Socks5Client.NO_AUTH, Socks5Client.PASSWORD)).isEqualTo(Socks5Client.PASSWORD);
                assertThat(c.auth("jürgen", "pässwort")).isZero();
                assertThat(c.connect("127.0.0.1", echo.port()).status()).isZero();
                assertEchoes(c, "hello");
            }
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.PASSWORD);
                assertThat(c.auth("jürgen", "passwort")).isNotZero();
                assertThat(c.closedByProxy()).isTrue();
            }
            // a client that offers only "no authentication" is told none of its methods is acceptable
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                assertThat(c.greet(Socks5Client.NO_AUTH)).isEqualTo(0xFF);
                assertThat(c.closedByProxy()).isTrue();
            }
            // a malformed sub-negotiation (version 2): a failure status, then the proxy closes
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.PASSWORD);
                c.out.write(new byte[] {2, 1, 'a', 1, 'b'});
                assertThat(c.readN(2)[1]).isNotZero();
                assertThat(c.closedByProxy()).isTrue();
            }
            assertThat(metric(p, "portcullis_forward_denied_total{listener=\"socks\",rule=\"auth\"}"))
                    .isGreaterThanOrEqualTo(5);
            // still serving
            assertThat(Curl.run("--socks5-hostname", proxy, "--proxy-user", "alice:wonderland", url).exit()).isZero();
        } finally {
            Files.deleteIfExists(users);
        }
    }

    // ---- the raw client: address types ----

    @Test
    void connectByIpv4ByNameAndByIpv6() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN))) {
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                assertThat(c.greet(Socks5Client.NO_AUTH)).isEqualTo(Socks5Client.NO_AUTH);
                Socks5Client.Reply r = c.connect("127.0.0.1", echo.port());
                assertThat(r.status()).isZero();
                // BND.ADDR / BND.PORT: where the proxy connected from
                assertThat(r.addressType()).isEqualTo(Socks5Client.IPV4);
                assertThat(InetAddress.getByAddress(r.address()).getHostAddress()).isEqualTo("127.0.0.1");
                assertThat(r.port()).isPositive();
                assertEchoes(c, "by address");
            }
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.NO_AUTH);
                assertThat(c.connect("origin.test", echo.port()).status()).isZero();
                assertEchoes(c, "by name");
            }
            // an address written as a name is read as that address
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.NO_AUTH);
                c.out.write(Socks5Client.requestBytes(Socks5Client.CONNECT, Socks5Client.DOMAIN,
                        lengthPrefixed("0x7f.1"), echo.port()));
                assertThat(c.readReply().status()).isZero();
                assertEchoes(c, "odd spelling");
            }
            Assumptions.assumeTrue(hasIpv6Loopback(), "no ::1 on this machine");
            try (EchoServer v6 = EchoServer.start("::1");
                 Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.NO_AUTH);
                Socks5Client.Reply r = c.connect("::1", v6.port());
                assertThat(r.status()).isZero();
                assertThat(r.addressType()).isEqualTo(Socks5Client.IPV6);
                assertEchoes(c, "by IPv6");
                assertThat(v6.accepted.get()).isEqualTo(1);
            }
        }
    }

    // ---- rules ----

    @Test
    void domainRulesReplyNotAllowedByNameAndByAddress() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN + "\ndeny_domains: [\".blocked.test\", \"127.0.0.2\"]"))) {
            int before = echo.accepted.get();
            assertThat(refusal(p, "blocked.test", echo.port())).isEqualTo(0x02);
            assertThat(refusal(p, "www.blocked.test", echo.port())).isEqualTo(0x02);
            assertThat(refusal(p, "127.0.0.2", echo.port())).isEqualTo(0x02);
            assertThat(refusal(p, "::ffff:127.0.0.2", echo.port())).isEqualTo(0x02); // mapped: the IPv4 entry
            assertThat(echo.accepted.get()).isEqualTo(before);
            assertThat(metric(p, "portcullis_forward_denied_total{listener=\"socks\",rule=\"domain\"}"))
                    .isEqualTo(4);
            assertServes(p);
        }
        try (TestProxy p = TestProxy.start(yaml(OPEN + "\nallow_domains: [origin.test]"))) {
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.NO_AUTH);
                assertThat(c.connect("origin.test", echo.port()).status()).isZero();
                assertEchoes(c, "allowed by name");
            }
            assertThat(refusal(p, "blocked.test", echo.port())).isEqualTo(0x02);
            // an allow list is not walked around by asking for the address
            assertThat(refusal(p, "127.0.0.1", echo.port())).isEqualTo(0x02);
        }
    }

    @Test
    void theGuardIsOnByDefaultAndRefusesLoopbackByAddressAndByName() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("clients: [127.0.0.0/8]"))) {
            int before = echo.accepted.get();
            for (String host : List.of("127.0.0.1", "origin.test", "127.1", "2130706433", "::1",
                    "::ffff:127.0.0.1", "169.254.169.254", "10.1.2.3", "0.0.0.0")) {
                assertThat(refusal(p, host, echo.port())).as(host).isEqualTo(0x02);
            }
            assertThat(echo.accepted.get()).isEqualTo(before); // nothing reached it
            assertThat(metric(p, "portcullis_forward_denied_total{listener=\"socks\",rule=\"private\"}"))
                    .isEqualTo(9);
        }
        try (TestProxy p = TestProxy.start(yaml("allow_private: [127.0.0.1/32]"))) {
            assertServes(p); // reached on purpose
            assertThat(refusal(p, "127.0.0.2", echo.port())).isEqualTo(0x02);
        }
    }

    @Test
    void clientsOutsideTheListAreClosedBeforeAnyReply() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN + "\nclients: [10.0.0.0/8]"))) {
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.out.write(Socks5Client.greeting(Socks5Client.NO_AUTH));
                assertThat(c.closedByProxy()).isTrue();
            }
            Curl refused = Curl.run("--socks5-hostname", "127.0.0.1:" + p.port("socks"),
                    "http://origin.test:" + origin.port() + "/");
            assertThat(refused.exit()).isNotZero();
            await().atMost(Duration.ofSeconds(5)).until(() -> metric(p,
                    "portcullis_forward_denied_total{listener=\"socks\",rule=\"client\"}") == 2);
        }
    }

    // ---- what the proxy cannot or will not do ----

    @Test
    void unreachableDestinationsGetTheirReplyCodes() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // free once closed: nothing listens there
        }
        try (TestProxy p = TestProxy.start(yaml(OPEN))) {
            assertThat(refusal(p, "127.0.0.1", closed)).isEqualTo(0x05); // connection refused
            assertThat(refusal(p, "no-such-name.invalid", 80)).isEqualTo(0x04); // host unreachable: no such name
            assertThat(refusal(p, "127.0.0.1", 0)).isEqualTo(0x08);
            assertThat(refusal(p, "256.1.1.1", 80)).isEqualTo(0x08); // neither a name nor an address
            assertThat(refusal(p, "bad..name", 80)).isEqualTo(0x08);
            assertServes(p);
        }
    }

    @Test
    void bindUdpAssociateSocks4AndMalformedInputAreRefused() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN, "limits: { header_read_timeout: 1s }"))) {
            int port = p.port("socks");
            for (int command : new int[] {Socks5Client.BIND, Socks5Client.UDP_ASSOCIATE, 0x09}) {
                try (Socks5Client c = Socks5Client.open(port)) {
                    c.greet(Socks5Client.NO_AUTH);
                    assertThat(c.request(command, "127.0.0.1", echo.port()).status()).as("command " + command)
                            .isEqualTo(0x07);
                    assertThat(c.closedByProxy()).isTrue();
                }
                assertServes(p);
            }
            // an address type RFC 1928 does not define: X'08'
            try (Socks5Client c = Socks5Client.open(port)) {
                c.greet(Socks5Client.NO_AUTH);
                c.out.write(Socks5Client.requestBytes(Socks5Client.CONNECT, 0x05, new byte[] {1, 2, 3, 4},
                        echo.port()));
                assertThat(c.readReply().status()).isEqualTo(0x08);
                assertThat(c.closedByProxy()).isTrue();
            }
            // a request that is not version 5: general failure
            try (Socks5Client c = Socks5Client.open(port)) {
                c.greet(Socks5Client.NO_AUTH);
                byte[] req = Socks5Client.requestBytes(Socks5Client.CONNECT, "127.0.0.1", echo.port());
                req[0] = 4;
                c.out.write(req);
                assertThat(c.readReply().status()).isEqualTo(0x01);
                assertThat(c.closedByProxy()).isTrue();
            }
            // a greeting without a method the proxy accepts
            try (Socks5Client c = Socks5Client.open(port)) {
                assertThat(c.greet(Socks5Client.PASSWORD, 0x80)).isEqualTo(0xFF);
                assertThat(c.closedByProxy()).isTrue();
            }
            // no methods at all (RFC 1928 says 1 to 255): malformed, closed without a reply
            try (Socks5Client c = Socks5Client.open(port)) {
                c.out.write(new byte[] {5, 0});
                assertThat(c.closedByProxy()).isTrue();
            }
            // SOCKS4: told "rejected" in its own protocol (VN 0, CD 91)
            try (Socks5Client c = Socks5Client.open(port)) {
                c.out.write(new byte[] {4, 1, 0, 80, 127, 0, 0, 1, 'u', 0});
                byte[] r = c.readN(8);
                assertThat(r[0]).isEqualTo((byte) 0);
                assertThat(r[1]).isEqualTo((byte) 91);
                assertThat(c.closedByProxy()).isTrue();
            }
            // not SOCKS at all: closed without a reply
            try (Socks5Client c = Socks5Client.open(port)) {
                c.out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.closedByProxy()).isTrue();
            }
            // a greeting cut short, then silence: closed after header_read_timeout
            try (Socks5Client c = Socks5Client.open(port)) {
                c.out.write(new byte[] {5, 3, 0});
                c.socket.setSoTimeout(10_000);
                assertThat(c.closedByProxy()).isTrue();
            }
            // a request cut short after a complete greeting: the same
            try (Socks5Client c = Socks5Client.open(port)) {
                c.greet(Socks5Client.NO_AUTH);
                c.out.write(new byte[] {5, 1, 0, 3, 20, 'a', 'b'});
                c.socket.setSoTimeout(10_000);
                assertThat(c.closedByProxy()).isTrue();
            }
            assertServes(p);
        }
    }

    // ---- the tunnel ----

    @Test
    void aLargeTransferWithHalfCloseIsByteExact() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN));
             Socks5Client c = Socks5Client.open(p.port("socks"))) {
            c.greet(Socks5Client.NO_AUTH);
            assertThat(c.connect("origin.test", echo.port()).status()).isZero();
            byte[] data = new byte[6 * 1024 * 1024 + 17];
            new Random(7).nextBytes(data);
            Thread writer = new Thread(() -> {
                try {
                    for (int off = 0; off < data.length; off += 100_000) {
                        c.out.write(data, off, Math.min(100_000, data.length - off));
                    }
                    c.out.flush();
                    c.socket.shutdownOutput(); // FIN: passed on to the echo server, which then ends its side
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            c.socket.setSoTimeout(30_000);
            byte[] back = c.in.readAllBytes(); // ends only when the FIN came back through the tunnel
            writer.join(30_000);
            assertThat(back.length).isEqualTo(data.length);
            assertThat(MessageDigest.getInstance("SHA-256").digest(back))
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
            assertServes(p);
        }
    }

    @Test
    void requestsAndDataSentWithoutWaitingForRepliesArriveInOrder() throws Exception {
        Path users = Files.createTempFile("socks-users", ".htpasswd");
        Files.writeString(users, "alice:" + bcrypt("wonderland") + "\n");
        try (TestProxy p = TestProxy.start(yaml(OPEN));
             Socks5Client c = Socks5Client.open(p.port("socks"))) {
            // greeting, request and the first bytes for the destination in one write
            c.out.write(concat(Socks5Client.greeting(Socks5Client.NO_AUTH),
                    Socks5Client.requestBytes(Socks5Client.CONNECT, "origin.test", echo.port()),
                    "early bytes".getBytes(StandardCharsets.US_ASCII)));
            assertThat(c.readN(2)).containsExactly(5, 0);
            assertThat(c.readReply().status()).isZero();
            assertThat(new String(c.readN(11), StandardCharsets.US_ASCII)).isEqualTo("early bytes");
            assertEchoes(c, "then more");
        }
        try (TestProxy p = TestProxy.start(yaml(OPEN + "\nauth: { basic: { htpasswd: " + users + " } }"));
             Socks5Client c = Socks5Client.open(p.port("socks"))) {
            // the same with a password: the request waits for the password's verdict
            c.out.write(concat(Socks5Client.greeting(Socks5Client.PASSWORD),
                    Socks5Client.auth("alice".getBytes(StandardCharsets.UTF_8),
                            "wonderland".getBytes(StandardCharsets.UTF_8)),
                    Socks5Client.requestBytes(Socks5Client.CONNECT, "127.0.0.1", echo.port()),
                    "early".getBytes(StandardCharsets.US_ASCII)));
            assertThat(c.readN(2)).containsExactly(5, 2);
            assertThat(c.readN(2)).containsExactly(1, 0);
            assertThat(c.readReply().status()).isZero();
            assertThat(new String(c.readN(5), StandardCharsets.US_ASCII)).isEqualTo("early");
        } finally {
            Files.deleteIfExists(users);
        }
    }

    @Test
    void eachTunnelHasAnAccessLogLineAndIsCounted() throws Exception {
        Path logFile = Files.createTempFile("socks-access", ".log");
        try (TestProxy p = TestProxy.start("access_log: { path: " + logFile + ", format: json }\n"
                + yaml(OPEN + "\ndeny_domains: [blocked.test]"))) {
            try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
                c.greet(Socks5Client.NO_AUTH);
                assertThat(c.connect("origin.test", echo.port()).status()).isZero();
                assertEchoes(c, "0123456789");
            }
            assertThat(refusal(p, "blocked.test", 443)).isEqualTo(0x02);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.readAllLines(logFile).size() >= 2);
            List<String> lines = Files.readAllLines(logFile);
            String tunnel = lines.stream().filter(l -> l.contains("\"status\":200")).findFirst().orElseThrow();
            assertThat(tunnel).contains("\"listener\":\"socks\"", "\"method\":\"CONNECT\"",
                    "\"uri\":\"origin.test:" + echo.port() + "\"", "\"protocol\":\"SOCKS5\"",
                    "\"bytes_sent\":10", "\"bytes_received\":10", "\"client_ip\":\"127.0.0.1\"",
                    "\"upstream_address\":\"127.0.0.1:" + echo.port() + "\"");
            String refused = lines.stream().filter(l -> l.contains("\"status\":403")).findFirst().orElseThrow();
            assertThat(refused).contains("\"uri\":\"blocked.test:443\"");
            assertThat(metric(p, "portcullis_forward_tunnels_total{listener=\"socks\"}")).isEqualTo(1);
            assertThat(metric(p,
                    "portcullis_forward_tunnel_bytes_total{direction=\"upstream\",listener=\"socks\"}"))
                    .isEqualTo(10);
        } finally {
            Files.deleteIfExists(logFile);
        }
    }

    @Test
    void maxConnectionsClosesTheConnectionsOverIt() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(OPEN, "limits: { max_connections: 1 }"))) {
            try (Socks5Client first = Socks5Client.open(p.port("socks"))) {
                first.greet(Socks5Client.NO_AUTH);
                try (Socks5Client second = Socks5Client.open(p.port("socks"))) {
                    second.out.write(Socks5Client.greeting(Socks5Client.NO_AUTH));
                    assertThat(second.closedByProxy()).isTrue();
                }
                assertThat(first.connect("127.0.0.1", echo.port()).status()).isZero();
                assertEchoes(first, "the first one is served");
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertServes(p));
        }
    }

    @Test
    void aReloadTurnsAnHttpForwardListenerIntoSocks5OnTheSameSocket() throws Exception {
        String http = """
                listeners:
                  - name: socks
                    bind: 127.0.0.1:0
                    mode: forward
                    forward: { deny_private_destinations: false }
                """;
        try (TestProxy p = TestProxy.start(http);
             Socket keptAlive = new Socket("127.0.0.1", p.port("socks"))) {
            keptAlive.setSoTimeout(5000);
            OutputStream out = keptAlive.getOutputStream();
            InputStream in = keptAlive.getInputStream();
            String get = "GET http://origin.test:" + origin.port() + "/x HTTP/1.1\r\nHost: origin.test\r\n\r\n";
            out.write(get.getBytes(StandardCharsets.US_ASCII));
            StringBuilder first = new StringBuilder();
            while (!first.toString().endsWith("origin GET /x")) {
                int b = in.read();
                assertThat(b).as("the first response, in full").isNotNegative();
                first.append((char) b);
            }
            assertThat(first.toString()).startsWith("HTTP/1.1 200");
            assertThat(p.reload(yaml(OPEN))).isInstanceOf(dev.portcullis.admin.ReloadOutcome.Applied.class);
            assertServes(p); // new connections speak SOCKS5
            // the HTTP connection from before is told to reconnect, not served as an HTTP proxy with SOCKS rules
            out.write(get.getBytes(StandardCharsets.US_ASCII));
            String answer = dev.portcullis.testing.RawHttp.readAll(in);
            assertThat(answer).contains("421");
        }
    }

    // ---- helpers ----

    /** A good CONNECT through the proxy, with bytes both ways: the process still serves. */
    private static void assertServes(TestProxy p) throws IOException {
        try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
            assertThat(c.greet(Socks5Client.NO_AUTH)).isEqualTo(Socks5Client.NO_AUTH);
            assertThat(c.connect("127.0.0.1", echo.port()).status()).isZero();
            assertEchoes(c, "still serving");
        }
    }

    /** The reply status to a CONNECT that is expected to fail; the proxy closes the connection after it. */
    private static int refusal(TestProxy p, String host, int port) throws IOException {
        try (Socks5Client c = Socks5Client.open(p.port("socks"))) {
            assertThat(c.greet(Socks5Client.NO_AUTH)).isEqualTo(Socks5Client.NO_AUTH);
            int status = c.connect(host, port).status();
            assertThat(c.closedByProxy()).as("closed after a failure reply").isTrue();
            return status;
        }
    }

    private static void assertEchoes(Socks5Client c, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        c.out.write(b);
        c.out.flush();
        assertThat(new String(c.readN(b.length), StandardCharsets.UTF_8)).isEqualTo(text);
    }

    private static double metric(TestProxy p, String series) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + p.adminPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    private static String bcrypt(String password) {
        return org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2y",
                password.getBytes(StandardCharsets.UTF_8), new byte[16], 4);
    }

    private static byte[] lengthPrefixed(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[n.length + 1];
        b[0] = (byte) n.length;
        System.arraycopy(n, 0, b, 1, n.length);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            b.writeBytes(part);
        }
        return b.toByteArray();
    }

    private static boolean hasIpv6Loopback() {
        try {
            NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("::1"));
            return lo != null && lo.inetAddresses().anyMatch(a -> a instanceof Inet6Address);
        } catch (IOException e) {
            return false;
        }
    }
}
