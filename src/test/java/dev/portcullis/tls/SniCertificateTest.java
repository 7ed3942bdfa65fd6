package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.TlsClient;
import io.netty.handler.ssl.OpenSsl;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Several certificates on one listener, chosen by the ClientHello's server name; RSA and ECDSA; key formats. */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SniCertificateTest {
    static TestPki pki;
    @TempDir
    static Path dir;
    private TestBackend backend;
    private TestProxy proxy;

    @BeforeAll
    static void certs() throws Exception {
        pki = new TestPki();
        // default (first): ECDSA, SEC1 key; a: RSA with a PKCS#1 key; b: ECDSA with PKCS#8, also *.wild.example.com
        pki.write(dir, "default", pki.server("default.example.com", false, "default.example.com"),
                TestPki.KeyFormat.TRADITIONAL);
        pki.write(dir, "a", pki.server("a.example.com", true, "a.example.com"), TestPki.KeyFormat.TRADITIONAL);
        pki.write(dir, "b", pki.serverWithNames("b.example.com", "b.example.com", "*.wild.example.com"));
        // No SAN at all: its CN is its name.
        X509Bundle cnOnly = new CertificateBuilder().subject("CN=cn-only.example.com").ecp256()
                .buildIssuedBy(pki.intermediate);
        pki.write(dir, "cn", cnOnly);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
        System.clearProperty(TlsProvider.PROPERTY);
    }

    private void start(String provider) throws Exception {
        if (provider.equals("jdk")) {
            System.setProperty(TlsProvider.PROPERTY, "jdk");
        }
        backend = TestBackend.start("be");
        proxy = TestProxy.start(TestPki.httpsYaml(TestPki.certificates(dir, "default", "a", "b", "cn"),
                backend.address(), "headers: { request: { set: { X-Sni: \"{tls.sni}\" } } }", ""));
    }

    /**
     * A fresh client context per connection: the JDK client caches sessions by address and port, not by server
     * name, and would resume the session of another name (real clients key them by host name).
     */
    private String subjectFor(String sni) throws Exception {
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), proxy.port("web"), sni)) {
            assertThat(c.get("/", sni == null ? "x" : sni, "X-Sni: forged\r\n").status()).isEqualTo(200);
            return c.peerSubject();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void choosesTheCertificateByServerName(String provider) throws Exception {
        if (provider.equals("boringssl") && !OpenSsl.isAvailable()) {
            return;
        }
        start(provider);
        assertThat(subjectFor("a.example.com")).startsWith("CN=a.example.com");
        assertThat(subjectFor("b.example.com")).startsWith("CN=b.example.com");
        assertThat(subjectFor("A.Example.COM")).as("case-insensitive").startsWith("CN=a.example.com");
        assertThat(subjectFor("x.wild.example.com")).as("wildcard").startsWith("CN=b.example.com");
        assertThat(subjectFor("cn-only.example.com")).as("CN without SAN").startsWith("CN=cn-only.example.com");
        assertThat(subjectFor("a.b.wild.example.com")).as("wildcard covers one label").startsWith("CN=default");
        assertThat(subjectFor("unknown.example.org")).as("unknown name: first").startsWith("CN=default");
        assertThat(subjectFor(null)).as("no SNI: first").startsWith("CN=default");
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), proxy.port("web"), "a.example.com")) {
            assertThat(c.peer().getPublicKey().getAlgorithm()).isEqualTo("RSA");
        }
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), proxy.port("web"), "b.example.com")) {
            assertThat(c.peer().getPublicKey().getAlgorithm()).isEqualTo("EC");
        }
        // {tls.sni} is the name from the ClientHello; the client's X-Sni header was replaced.
        assertThat(backend.seen.stream().map(s -> s.header("X-Sni")))
                .contains("a.example.com", "x.wild.example.com", "").doesNotContain("forged");
    }

    @Test
    void curlVerifiesEachNameAgainstItsCertificate() throws Exception {
        start("boringssl");
        Path ca = pki.writeRoot(dir);
        int port = proxy.port("web");
        for (String host : new String[] {"a.example.com", "b.example.com", "x.wild.example.com"}) {
            Process p = new ProcessBuilder("curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", ca.toString(),
                    "--resolve", host + ":" + port + ":127.0.0.1", "https://" + host + ":" + port + "/c")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(host + ": " + out).isZero();
            assertThat(out).isEqualTo("be GET /c");
        }
        assertThat(Files.exists(ca)).isTrue();
    }
}
