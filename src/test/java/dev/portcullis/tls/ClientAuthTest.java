package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TestProxy;
import io.netty.handler.ssl.OpenSsl;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** client_auth require/optional: who gets in, and what the backend learns from the client certificate. */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClientAuthTest {
    static final String ROUTE = "headers: { request: { set: { X-Client-Subject: \"{tls.client.subject}\", "
            + "X-Client-Fingerprint: \"{tls.client.fingerprint}\" } } }";
    static TestPki pki;
    static X509Bundle alice;
    static SSLContext aliceContext;
    static SSLContext noCertContext;
    static SSLContext strangerContext;
    @TempDir
    static Path dir;
    private TestBackend backend;
    private TestProxy proxy;

    @BeforeAll
    static void certs() throws Exception {
        pki = new TestPki();
        pki.write(dir, "site", pki.server("localhost", false, "localhost"));
        pki.writeRoot(dir);
        alice = pki.client("alice");
        aliceContext = pki.clientContext(alice);
        noCertContext = pki.clientContext(null);
        // A client certificate from another CA, presented to a server that trusts our root only.
        TestPki other = new TestPki();
        X509Bundle mallory = other.client("mallory");
        SSLContext ctx = other.clientContext(mallory);
        // ... but trusting our root for the server's certificate:
        strangerContext = mixed(pki, other, mallory);
        assertThat(ctx).isNotNull();
    }

    /** Trusts {@code trust}'s root, presents {@code cert} (issued under {@code issuer}). */
    private static SSLContext mixed(TestPki trust, TestPki issuer, X509Bundle cert) throws Exception {
        var ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("c", cert.getKeyPair().getPrivate(), "x".toCharArray(),
                new java.security.cert.Certificate[] {cert.getCertificate(), issuer.intermediate.getCertificate()});
        var kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        var ts = java.security.KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", trust.root.getCertificate());
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return c;
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

    private void start(String provider, String mode) throws Exception {
        if (provider.equals("jdk")) {
            System.setProperty(TlsProvider.PROPERTY, "jdk");
        } else if (!OpenSsl.isAvailable()) {
            org.junit.jupiter.api.Assumptions.abort("BoringSSL not available");
        }
        backend = TestBackend.start("be");
        proxy = TestProxy.start(TestPki.httpsYaml(TestPki.certificates(dir, "site")
                + "client_auth: { mode: " + mode + ", ca: '" + dir.resolve("root-ca.pem") + "' }",
                backend.address(), ROUTE, ""));
    }

    private HttpResponse<String> get(SSLContext ctx) throws Exception {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ctx)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port("web") + "/"))
                .timeout(Duration.ofSeconds(10))
                .header("X-Client-Subject", "CN=admin").header("X-Client-Fingerprint", "00").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String metrics() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        proxy.process().metrics().writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void requireLetsInAValidCertificateOnly(String provider) throws Exception {
        start(provider, "require");
        HttpResponse<String> ok = get(aliceContext);
        assertThat(ok.statusCode()).isEqualTo(200);
        TestBackend.Seen seen = backend.seen.poll();
        assertThat(seen.header("X-Client-Subject")).isEqualTo("CN=alice,O=Portcullis Tests");
        assertThat(seen.header("X-Client-Fingerprint"))
                .isEqualTo(TlsInfo.sha256Hex(alice.getCertificate().getEncoded())).hasSize(64);

        assertThatThrownBy(() -> get(noCertContext)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> get(strangerContext)).isInstanceOf(IOException.class);
        assertThat(backend.seen).isEmpty();
        // (the JDK client may try a refused connection twice)
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(metrics())
                .contains("portcullis_tls_handshakes_total{listener=\"web\",result=\"certificate\"}"));
        // Still serving.
        assertThat(get(aliceContext).statusCode()).isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "jdk"})
    void optionalLetsInWithoutACertificateButNeverTrustsTheHeader(String provider) throws Exception {
        start(provider, "optional");
        assertThat(get(noCertContext).statusCode()).isEqualTo(200);
        TestBackend.Seen anon = backend.seen.poll();
        assertThat(anon.header("X-Client-Subject")).isEmpty();
        assertThat(anon.header("X-Client-Fingerprint")).isEmpty();

        assertThat(get(aliceContext).statusCode()).isEqualTo(200);
        assertThat(backend.seen.poll().header("X-Client-Subject")).isEqualTo("CN=alice,O=Portcullis Tests");
        // A certificate that does not chain to the CA is refused even when optional.
        assertThatThrownBy(() -> get(strangerContext)).isInstanceOf(IOException.class);
    }
}
