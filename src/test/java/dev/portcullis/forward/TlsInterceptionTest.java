package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.EagerTlsClient;
import dev.portcullis.testing.Curl;
import dev.portcullis.testing.ForwardHosts;
import dev.portcullis.testing.H2Backend;
import dev.portcullis.testing.TestCerts;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TestProxy;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
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
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code intercept_tls}, black-box: curl ({@code -x} with {@code --cacert}) and the JDK HttpClient through the proxy
 * to a real TLS origin on 127.0.0.1 whose certificate comes from another CA (the proxy trusts it through
 * {@code origin_ca}). The client sees a certificate for the origin's name issued by the interception CA; the
 * origin sees the proxy's own TLS connection with the right SNI. Rules still apply; what a tunnel may not carry is
 * refused; a client that does not trust the CA fails its handshake and nothing else breaks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsInterceptionTest {
    static final X509Bundle INTERCEPT_CA = TestCerts.ca("Portcullis Interception Test CA");
    static final X509Bundle ORIGIN_CA = TestCerts.ca("Origin Test CA");
    static Path dir;
    static Path caCert;
    static Path caKey;
    static Path originCa;
    static H2Backend origin;

    @BeforeAll
    static void setUp() throws Exception {
        ForwardHosts.install();
        dir = Files.createTempDirectory("portcullis-intercept");
        caCert = dir.resolve("ca.pem");
        caKey = dir.resolve("ca.key");
        originCa = dir.resolve("origin-ca.pem");
        Files.writeString(caCert, TestPki.pem(INTERCEPT_CA.getCertificate()));
        Files.writeString(caKey, TestPki.keyPem(INTERCEPT_CA.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        Files.writeString(originCa, TestPki.pem(ORIGIN_CA.getCertificate()));
        origin = H2Backend.builder("origin").tls(TestCerts.server(ORIGIN_CA, "origin.test", "www.origin.test"))
                .alpn().start();
    }

    @AfterAll
    static void tearDown() {
        origin.close();
    }

    static String yaml(String extra) {
        return ForwardProxyTest.yaml("""
                deny_private_destinations: false
                connect_ports: [%d]
                intercept_tls: { ca_cert: '%s', ca_key: '%s', origin_ca: '%s' }
                %s""".formatted(origin.port(), caCert, caKey, originCa, extra));
    }

    static String url(String host, String path) {
        return "https://" + host + ":" + origin.port() + path;
    }

    /** A client context that trusts only {@code ca}. */
    static SSLContext trusting(X509Bundle ca) throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", ca.getCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), new SecureRandom());
        return c;
    }

    static HttpClient client(TestProxy p, SSLContext tls) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", p.port("fwd"))))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    static String metrics(TestProxy p) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** CONNECT by hand, then TLS over the same socket (SNI {@code sni}, or none when null). */
    static SSLSocket tunnel(TestProxy p, String host, String sni, SSLContext tls) throws IOException {
        Socket s = new Socket("127.0.0.1", p.port("fwd"));
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("CONNECT " + host + ":" + origin.port() + " HTTP/1.1\r\nHost: " + host + ":"
                + origin.port() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String head = readHead(s.getInputStream());
        assertThat(head).startsWith("HTTP/1.1 200 Connection established");
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, host, origin.port(), true);
        SSLParameters params = ssl.getSSLParameters();
        params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        ssl.setSSLParameters(params);
        return ssl;
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    // ---- the happy path ----

    @Test
    void curlSeesTheOriginsAnswerUnderACertificateFromTheInterceptionCa() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""))) {
            origin.sniNames.clear();
            origin.seen.clear();
            Curl c = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    "-w", "\n%{http_code} %{ssl_verify_result}", url("origin.test", "/hello?x=1"));
            assertThat(c.exit()).as(c.stderr()).isZero();
            assertThat(c.out()).isEqualTo("origin https/1.1 GET /hello?x=1\n200 0");
            assertThat(origin.sniNames).containsExactly("origin.test");
            H2Backend.Seen seen = origin.seen.peek();
            assertThat(seen.header("host")).isEqualTo("origin.test:" + origin.port());
            // anonymize: standard (the default) applies inside the tunnel too
            assertThat(seen.headers().keySet()).map(String::toLowerCase).doesNotContain("via", "x-forwarded-for",
                    "forwarded", "x-real-ip");
            // without the interception CA, curl refuses the proxy's certificate (60: peer certificate not trusted)
            Curl refused = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", originCa.toString(),
                    url("origin.test", "/no"));
            assertThat(refused.exit()).isEqualTo(60);
            String m = metrics(p);
            assertThat(m).contains("portcullis_forward_intercepts_total{listener=\"fwd\",result=\"ok\"} 1.0")
                    .contains("portcullis_forward_intercepts_total{listener=\"fwd\",result=\"handshake_failed\"} 1.0");
        }
    }

    @Test
    void theJdkClientGetsACertificateForTheHostIssuedByTheCaAndKeepsItsConnection() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""))) {
            HttpClient c = client(p, trusting(INTERCEPT_CA));
            int before = origin.connections.get();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(url("www.origin.test", "/a")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("origin https/1.1 GET /a");
            X509Certificate leaf = (X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0];
            assertThat(leaf.getIssuerX500Principal()).isEqualTo(INTERCEPT_CA.getCertificate().getSubjectX500Principal());
            assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "www.origin.test"));
            for (int i = 0; i < 5; i++) {
                assertThat(c.send(HttpRequest.newBuilder(URI.create(url("www.origin.test", "/again" + i))).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("origin https/1.1 GET /again" + i);
            }
            // one tunnel from the client, one pooled TLS connection to the origin
            assertThat(origin.connections.get() - before).isEqualTo(1);
        }
    }

    @Test
    void aLargeUploadAndDownloadStreamThroughTheInterceptedTunnel() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""))) {
            HttpClient c = client(p, trusting(INTERCEPT_CA));
            byte[] body = new byte[3_000_000];
            new java.util.Random(5).nextBytes(body);
            CRC32 crc = new CRC32();
            crc.update(body);
            HttpResponse<String> up = c.send(HttpRequest.newBuilder(URI.create(url("origin.test", "/upload")))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(up.body()).isEqualTo(body.length + " " + Long.toHexString(crc.getValue()));
            HttpResponse<byte[]> down = c.send(HttpRequest.newBuilder(URI.create(url("origin.test",
                    "/download?size=5000000"))).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(down.statusCode()).isEqualTo(200);
            assertThat(down.body()).hasSize(5_000_000);
        }
    }

    @Test
    void anIpLiteralTunnelGetsACertificateWithAnIpSan() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""));
             SSLSocket s = tunnel(p, "127.0.0.1", null, trusting(INTERCEPT_CA))) {
            s.startHandshake();
            X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
            assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
            // the origin's certificate has the IP too (TestCerts adds none here): the proxy verifies it for 127.0.0.1
            String answer = exchange(s, "GET /ip HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 502").contains("certificate does not match the name");
        }
    }

    @Test
    void interceptedResponsesAreCachedUnderTheirHttpsUrl() throws Exception {
        try (TestProxy p = TestProxy.start("""
                caches:
                  shared: { memory: 16MiB }
                """ + yaml("cache: shared"))) {
            origin.seen.clear();
            HttpClient c = client(p, trusting(INTERCEPT_CA));
            HttpResponse<String> first = c.send(HttpRequest.newBuilder(URI.create(url("origin.test", "/cacheable")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> second = c.send(HttpRequest.newBuilder(URI.create(url("origin.test", "/cacheable")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(second.body()).isEqualTo(first.body()).isEqualTo("origin https/1.1 GET /cacheable");
            assertThat(first.headers().firstValue("Cache-Status").orElse("")).contains("fwd=uri-miss");
            assertThat(second.headers().firstValue("Cache-Status").orElse("")).startsWith("portcullis; hit");
            assertThat(origin.seen).hasSize(1);
        }
    }

    @Test
    void requestsInsideAreLoggedAsHttps() throws Exception {
        Path log = dir.resolve("access-" + System.nanoTime() + ".log");
        try (TestProxy p = TestProxy.start("access_log: { path: '" + log + "', format: json }\n"
                + yaml(""))) {
            Curl c = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    url("origin.test", "/scheme"));
            assertThat(c.exit()).as(c.stderr()).isZero();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log)
                    && Files.readAllLines(log).size() >= 2);
            List<String> lines = Files.readAllLines(log);
            assertThat(lines.get(0)).contains("\"method\":\"CONNECT\"").contains("\"status\":200");
            assertThat(lines.get(1)).contains("\"scheme\":\"https\"").contains("/scheme");
        }
    }

    @Test
    void anEagerClientHelloSentWithTheConnectGoesThroughTls() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""))) {
            String answer = EagerTlsClient.get(p.port("fwd"), "origin.test", origin.port(), INTERCEPT_CA,
                    "GET /eager HTTP/1.1\r\nHost: origin.test:" + origin.port() + "\r\nConnection: close\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("origin https/1.1 GET /eager");
        }
    }

    @Test
    void aReloadThatDeniesTheHostOrEndsInterceptionReachesOpenTunnels() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""));
             SSLSocket s = tunnel(p, "origin.test", "origin.test", trusting(INTERCEPT_CA))) {
            assertThat(exchange(s, "GET /1 HTTP/1.1\r\nHost: origin.test:" + origin.port() + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(p.reload(yaml("deny_domains: [origin.test]"))).isInstanceOf(ReloadOutcome.Applied.class);
            assertThat(exchange(s, "GET /2 HTTP/1.1\r\nHost: origin.test:" + origin.port() + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("deny_domains");
            assertThat(p.reload(ForwardProxyTest.yaml("deny_private_destinations: false\nconnect_ports: ["
                    + origin.port() + "]"))).isInstanceOf(ReloadOutcome.Applied.class);
            assertThat(exchange(s, "GET /3 HTTP/1.1\r\nHost: origin.test:" + origin.port() + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 421");
        }
    }

    // ---- the rules still apply ----

    @Test
    void denyRulesAndConnectPortsStillApplyBeforeAnyInterception() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_domains: [blocked.test]"))) {
            Curl denied = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    "-w", "%{http_connect}", url("blocked.test", "/"));
            assertThat(denied.exit()).isNotZero();
            assertThat(denied.out()).isEqualTo("403");
            Curl port = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    "-w", "%{http_connect}", "https://origin.test:9/");
            assertThat(port.out()).isEqualTo("403");
            assertThat(Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    url("origin.test", "/still")).out()).isEqualTo("origin https/1.1 GET /still");
        }
    }

    @Test
    void aRequestForAnotherHostInsideTheTunnelIsMisdirected() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_domains: [blocked.test]"));
             SSLSocket s = tunnel(p, "origin.test", "origin.test", trusting(INTERCEPT_CA))) {
            origin.seen.clear();
            String answer = exchange(s, "GET /sneaky HTTP/1.1\r\nHost: blocked.test\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 421").contains("opened to origin.test");
            // the tunnel's host on another port is another origin too
            assertThat(exchange(s, "GET /port HTTP/1.1\r\nHost: origin.test:1\r\n\r\n")).startsWith("HTTP/1.1 421");
            assertThat(exchange(s, "GET https://origin.test:1/port HTTP/1.1\r\nHost: origin.test:" + origin.port()
                    + "\r\n\r\n")).startsWith("HTTP/1.1 421");
            // the connection serves on, for its own host, in absolute form too
            String ok = exchange(s, "GET https://origin.test:" + origin.port() + "/abs HTTP/1.1\r\nHost: origin.test:"
                    + origin.port() + "\r\nConnection: close\r\n\r\n");
            assertThat(ok).startsWith("HTTP/1.1 200").endsWith("origin https/1.1 GET /abs");
            assertThat(origin.seen).extracting(H2Backend.Seen::uri).containsExactly("/abs");
            assertThat(metrics(p)).contains("portcullis_forward_denied_total{listener=\"fwd\",rule=\"host\"} 3.0");
        }
    }

    @Test
    void aClientHelloNamingAnotherServerFailsTheHandshake() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""));
             SSLSocket s = tunnel(p, "origin.test", "blocked.test", trusting(INTERCEPT_CA))) {
            assertThatThrownBy(s::startHandshake).isInstanceOf(SSLException.class);
            assertThat(Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    url("origin.test", "/after")).out()).isEqualTo("origin https/1.1 GET /after");
        }
    }

    @Test
    void plainHttpInsideAnInterceptedTunnelClosesItAndTheProxyServesOn() throws Exception {
        try (TestProxy p = TestProxy.start(yaml(""));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("CONNECT origin.test:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 200");
            out.write("GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    url("origin.test", "/fine")).out()).isEqualTo("origin https/1.1 GET /fine");
        }
    }

    @Test
    void anOriginWhoseCertificateTheProxyDoesNotTrustGets502InsideTheTunnel() throws Exception {
        X509Bundle other = TestCerts.ca("Untrusted Origin CA");
        try (H2Backend stranger = H2Backend.builder("stranger").tls(TestCerts.server(other, "origin.test")).alpn()
                .start();
             TestProxy p = TestProxy.start(ForwardProxyTest.yaml("""
                     deny_private_destinations: false
                     connect_ports: [%d]
                     intercept_tls: { ca_cert: '%s', ca_key: '%s', origin_ca: '%s' }""".formatted(stranger.port(),
                     caCert, caKey, originCa)))) {
            Curl c = Curl.run("-x", "http://127.0.0.1:" + p.port("fwd"), "--cacert", caCert.toString(),
                    "-w", "\n%{http_code}", "https://origin.test:" + stranger.port() + "/x");
            assertThat(c.exit()).as(c.stderr()).isZero();
            assertThat(c.out()).endsWith("\n502").containsIgnoringCase("certificate");
        }
    }

    // ---- configuration ----

    @Test
    void unusableCaFilesAreConfigErrorsNamingTheKey() throws Exception {
        X509Bundle notCa = TestCerts.server(ORIGIN_CA, "leaf.test");
        Path leafCert = dir.resolve("leaf.pem");
        Path leafKey = dir.resolve("leaf.key");
        Files.writeString(leafCert, TestPki.pem(notCa.getCertificate()));
        Files.writeString(leafKey, TestPki.keyPem(notCa.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '" + leafCert
                + "', ca_key: '" + leafKey + "' }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageMatching("(?s).*:[1-9][0-9]*: listeners\\[0]\\.forward\\.intercept_tls\\.ca_cert: .*")
                .hasMessageContaining("is not a CA certificate");
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '" + caCert
                + "', ca_key: '" + leafKey + "' }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("forward.intercept_tls.ca_key")
                .hasMessageContaining("is not the private key of the CA certificate");
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '" + caCert
                + "' }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("forward.intercept_tls: missing required key 'ca_key'");
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '"
                + dir.resolve("missing.pem") + "', ca_key: '" + caKey + "' }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("forward.intercept_tls.ca_cert")
                .hasMessageContaining("file not found");
        assertThatThrownBy(() -> TestProxy.start("""
                listeners:
                  - name: fwd
                    bind: 127.0.0.1:0
                    protocol: https
                    tls: { self_signed: true }
                    mode: forward
                    forward: { intercept_tls: { ca_cert: '%s', ca_key: '%s' } }
                """.formatted(caCert, caKey)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'intercept_tls' needs a forward listener with protocol: http");
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '" + caCert
                + "', ca_key: '" + caKey + "' }\nparent: { address: parent.test:3128 }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot be combined with 'parent'");
        X509Bundle expired = new CertificateBuilder().subject("CN=Old CA").setIsCertificateAuthority(true).ecp256()
                .notBefore(Instant.now().minus(10, ChronoUnit.DAYS)).notAfter(Instant.now().minus(1, ChronoUnit.DAYS))
                .buildSelfSigned();
        Path oldCert = dir.resolve("old.pem");
        Path oldKey = dir.resolve("old.key");
        Files.writeString(oldCert, TestPki.pem(expired.getCertificate()));
        Files.writeString(oldKey, TestPki.keyPem(expired.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        assertThatThrownBy(() -> TestProxy.start(ForwardProxyTest.yaml("intercept_tls: { ca_cert: '" + oldCert
                + "', ca_key: '" + oldKey + "' }")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("intercept_tls.ca_cert")
                .hasMessageContaining("expired on");
    }

    /** Writes a request on the TLS socket and reads the answer: until close, or a whole response by length. */
    static String exchange(SSLSocket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        String head = readHead(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }
}
