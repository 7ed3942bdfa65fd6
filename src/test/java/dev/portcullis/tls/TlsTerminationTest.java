package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.TlsClient;
import dev.portcullis.testing.Wire;
import io.netty.handler.ssl.OpenSsl;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An https listener end to end, with both TLS providers: BoringSSL (netty-tcnative) and the JDK's. */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsTerminationTest {
    static TestPki pki;
    static TestBackend backend;
    @TempDir
    static Path dir;
    private TestProxy proxy;

    @BeforeAll
    static void setUp() throws Exception {
        pki = new TestPki();
        pki.write(dir, "site", pki.server("localhost", false, "localhost"));
        backend = TestBackend.start("be");
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        System.clearProperty(TlsProvider.PROPERTY);
    }

    private TestProxy start(String provider, String tlsExtra, String routeExtra, String listenerExtra)
            throws Exception {
        if (provider.equals("boringssl")) {
            Assumptions.assumeTrue(OpenSsl.isAvailable(), "BoringSSL not available here");
        } else {
            System.setProperty(TlsProvider.PROPERTY, "jdk");
        }
        backend.seen.clear();
        proxy = TestProxy.start(TestPki.httpsYaml(TestPki.certificates(dir, "site") + tlsExtra,
                "127.0.0.1:" + backend.port(), routeExtra, listenerExtra));
        return proxy;
    }

    private HttpClient client() throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(pki.clientContext(null))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private String metrics() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        proxy.process().metrics().writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void servesHttpsWithTheChainAndTellsTheBackendItWasHttps(String provider) throws Exception {
        start(provider, "", "headers: { request: { set: { X-Tls: \"{tls.version} {tls.cipher} sni={tls.sni}\" } } }",
                "");
        HttpResponse<String> r = client().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + proxy.port("web") + "/hello"))
                .header("X-Forwarded-Proto", "http").header("X-Tls", "forged").build(),
                HttpResponse.BodyHandlers.ofString());
        // The client trusts only the root: the intermediate came from the certificate file.
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("be GET /hello");
        assertThat(r.sslSession()).get().satisfies(s -> assertThat(s.getProtocol()).isEqualTo("TLSv1.3"));
        TestBackend.Seen seen = backend.seen.poll();
        assertThat(seen.header("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(seen.header("Forwarded")).endsWith(";proto=https");
        assertThat(seen.header("X-Tls")).matches("TLSv1\\.3 TLS_[A-Z0-9_]+ sni=localhost");
        assertThat(metrics()).contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"ok\"} 1.0");
        assertThat(proxy.process().snapshot().listeners().get("web").tls().describe())
                .startsWith(provider.equals("jdk") ? "JDK" : "BoringSSL");
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void tls12OnlyWithModernAeadCiphersAndTls13(String provider) throws Exception {
        start(provider, "", "", "");
        SSLContext ctx = pki.clientContext(null);
        try (TlsClient c = TlsClient.connect(ctx, proxy.port("web"), "localhost", "TLSv1.2")) {
            String cipher = c.socket.getSession().getCipherSuite();
            assertThat(cipher).startsWith("TLS_ECDHE_").containsAnyOf("_GCM_", "CHACHA20_POLY1305");
            assertThat(c.get("/", "localhost", "").status()).isEqualTo(200);
        }
        try (TlsClient c = TlsClient.connect(ctx, proxy.port("web"), "localhost", "TLSv1.3")) {
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        // TLS 1.2 with only CBC suites: refused.
        assertThatThrownBy(() -> {
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", proxy.port("web"));
            try (s) {
                SSLParameters p = s.getSSLParameters();
                p.setProtocols(new String[] {"TLSv1.2"});
                p.setCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256"});
                s.setSSLParameters(p);
                s.startHandshake();
            }
        }).isInstanceOf(SSLHandshakeException.class);
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(metrics())
                .contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"protocol\"} 1.0"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void minVersionTls13RefusesATls12Client(String provider) throws Exception {
        start(provider, "min_version: TLSv1.3", "", "");
        SSLContext ctx = pki.clientContext(null);
        assertThatThrownBy(() -> TlsClient.connect(ctx, proxy.port("web"), "localhost", "TLSv1.2"))
                .isInstanceOf(SSLHandshakeException.class);
        try (TlsClient c = TlsClient.connect(ctx, proxy.port("web"), "localhost")) {
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
            assertThat(c.get("/", "localhost", "").status()).isEqualTo(200);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void resumesTls12SessionsOnANewConnection(String provider) throws Exception {
        start(provider, "", "", "");
        SSLContext ctx = pki.clientContext(null);
        byte[] first;
        try (TlsClient c = TlsClient.connect(ctx, proxy.port("web"), "localhost", "TLSv1.2")) {
            first = c.socket.getSession().getId();
            assertThat(c.get("/", "localhost", "").status()).isEqualTo(200);
        }
        try (TlsClient c = TlsClient.connect(ctx, proxy.port("web"), "localhost", "TLSv1.2")) {
            assertThat(first).isNotEmpty();
            assertThat(Arrays.equals(c.socket.getSession().getId(), first)).as("same session id: resumed").isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void plainHttpOnTheTlsPortGetsA400InClearText(String provider) throws Exception {
        start(provider, "", "", "");
        String reply = RawHttp.exchange(proxy.port("web"), "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 5000);
        assertThat(reply).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("Connection: close")
                .endsWith("plain HTTP request sent to an HTTPS port; use https://\r\n");
        assertThat(metrics()).contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"plain_http\"} 1.0");
        // Still serving TLS.
        assertThat(client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port("web") + "/"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @Test
    void alpnOffersOnlyHttp11WhenHttp2IsDisabled() throws Exception {
        start("jdk", "", "", "http2: { enabled: false }");
        SSLSocket s = (SSLSocket) pki.clientContext(null).getSocketFactory().createSocket("127.0.0.1",
                proxy.port("web"));
        try (s) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            s.setSSLParameters(p);
            s.startHandshake();
            assertThat(s.getApplicationProtocol()).isEqualTo("http/1.1");
        }
        assertThat(proxy.process().snapshot().listeners().get("web").tls().alpn()).containsExactly("http/1.1");
    }

    @Test
    void curlOverHttpsWithTheCaFile() throws Exception {
        start("boringssl", "", "", "");
        Path ca = pki.writeRoot(dir);
        Process p = new ProcessBuilder("curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", ca.toString(),
                "https://localhost:" + proxy.port("web") + "/via-curl").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo("be GET /via-curl");
    }

    @Test
    void stickyCookieIsSecureOnTls() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable());
        backend.seen.clear();
        proxy = TestProxy.start(TestPki.httpsYaml(TestPki.certificates(dir, "site"), "127.0.0.1:" + backend.port(),
                "", "").replace("be: { endpoints: [127.0.0.1:" + backend.port() + "] }",
                "be: { endpoints: [127.0.0.1:" + backend.port() + "], sticky: { cookie: PC } }"));
        HttpResponse<String> r = client().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + proxy.port("web") + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.headers().firstValue("set-cookie")).get().asString().startsWith("PC=").endsWith("; Secure");
    }

    @Test
    void accessLogTemplateShowsTheTlsFacts() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable());
        Path log = dir.resolve("access.log");
        proxy = TestProxy.start("access_log: { path: '" + log + "', format: '{request.scheme} {tls.version} "
                + "{tls.sni} [{tls.client.subject}]' }\n" + TestPki.httpsYaml(TestPki.certificates(dir, "site"),
                "127.0.0.1:" + backend.port(), "", ""));
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), proxy.port("web"), "localhost")) {
            Wire.Message m = c.get("/", "localhost", "");
            assertThat(m.status()).isEqualTo(200);
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Files.exists(log) ? Files.readAllLines(log) : List.<String>of())
                        .contains("https TLSv1.3 localhost [-]"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void selfSignedServesADevelopmentCertificate(String provider) throws Exception {
        if (provider.equals("jdk")) {
            System.setProperty(TlsProvider.PROPERTY, "jdk");
        } else {
            Assumptions.assumeTrue(OpenSsl.isAvailable());
        }
        proxy = TestProxy.start(TestPki.httpsYaml("self_signed: true", backend.address(), "", ""));
        // Trust exactly what the server shows (as a developer accepting the warning would).
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (TlsClient c = TlsClient.connect(trustAll, proxy.port("web"), "localhost")) {
            java.security.cert.X509Certificate cert = c.peer();
            assertThat(cert.getSubjectX500Principal()).isEqualTo(cert.getIssuerX500Principal());
            assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
            assertThat(cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                    .containsExactlyInAnyOrder("localhost", "127.0.0.1");
            long days = Duration.between(java.time.Instant.now(), cert.getNotAfter().toInstant()).toDays();
            assertThat(days).isBetween(28L, 30L);
            assertThat(c.get("/dev", "localhost", "").status()).isEqualTo(200);
        }
    }

    @Test
    void staplesTheConfiguredOcspResponseWithBoringSsl() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable());
        X509Bundle leaf = pki.server("stapled", false, "localhost");
        pki.write(dir, "stapled", leaf);
        byte[] ocsp = TestOcsp.goodResponse(leaf.getCertificate(), pki.intermediate);
        Path staple = dir.resolve("stapled.ocsp");
        Files.write(staple, ocsp);
        proxy = TestProxy.start(TestPki.httpsYaml("certificates:\n  - { cert: '" + dir.resolve("stapled.crt")
                + "', key: '" + dir.resolve("stapled.key") + "', ocsp_staple: '" + staple + "' }",
                backend.address(), "", ""));
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), proxy.port("web"), "localhost")) {
            List<byte[]> responses = ((javax.net.ssl.ExtendedSSLSession) c.socket.getSession()).getStatusResponses();
            assertThat(responses).isNotEmpty();
            assertThat(responses.get(0)).isEqualTo(ocsp);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void failedHandshakesAreCountedByReasonAndTheListenerKeepsServing(String provider) throws Exception {
        start(provider, "", "", "");
        int port = proxy.port("web");
        new java.net.Socket("127.0.0.1", port).close(); // a TCP check: connects and leaves
        String reply = RawHttp.exchange(port, "\u0000\u0001\u0002 not tls at all \r\n\r\n", 5000);
        assertThat(reply).isEmpty();
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(metrics())
                .contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"closed\"} 1.0")
                .contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"not_tls\"} 1.0"));
        assertThat(client().send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
}
