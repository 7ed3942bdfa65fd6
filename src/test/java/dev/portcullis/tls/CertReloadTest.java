package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.runtime.FileConfigSource;
import dev.portcullis.runtime.Portcullis;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TlsClient;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates renewed on disk are picked up without a restart and without dropping connections; a broken renewal
 * is refused and the previous certificate keeps serving.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CertReloadTest {
    @TempDir
    Path dir;
    private TestBackend backend;
    private Portcullis process;
    private TestPki pki;

    @AfterEach
    void stop() {
        if (process != null) {
            process.drainAndStop();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private void start() throws Exception {
        pki = new TestPki();
        pki.write(dir, "site", pki.server("original", false, "localhost"));
        backend = TestBackend.start("be");
        Path config = dir.resolve("portcullis.yaml");
        Files.writeString(config, "admin: { bind: 127.0.0.1:0 }\naccess_log: { path: off }\n"
                + TestPki.httpsYaml(TestPki.certificates(dir, "site"), backend.address(), "", ""));
        process = Portcullis.start(new FileConfigSource(config));
    }

    private int port() {
        return process.listenerAddress("web").getPort();
    }

    /** The certificate subject a new connection sees, after one request on it succeeded. */
    private String newConnectionSubject() throws Exception {
        try (TlsClient c = TlsClient.connect(pki.clientContext(null), port(), "localhost")) {
            assertThat(c.get("/", "localhost", "").status()).isEqualTo(200);
            return c.peerSubject();
        }
    }

    /** Replaces cert and key the way certbot or an editor does: write beside, then rename over. */
    private void replace(String certPem, String keyPem) throws IOException {
        Path crtTmp = dir.resolve(".site.crt.tmp");
        Path keyTmp = dir.resolve(".site.key.tmp");
        Files.writeString(crtTmp, certPem);
        Files.writeString(keyTmp, keyPem);
        Files.move(keyTmp, dir.resolve("site.key"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(crtTmp, dir.resolve("site.crt"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private String metrics() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        process.metrics().writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void renewedCertificateServesNewConnectionsWhileTrafficKeepsFlowing() throws Exception {
        start();
        assertThat(newConnectionSubject()).startsWith("CN=original");
        // A keep-alive connection opened before the renewal.
        TlsClient old = TlsClient.connect(pki.clientContext(null), port(), "localhost");
        assertThat(old.get("/", "localhost", "").status()).isEqualTo(200);

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicReference<String> lastSubject = new AtomicReference<>();
        Thread load = new Thread(() -> {
            while (running.get()) {
                try {
                    lastSubject.set(newConnectionSubject());
                    ok.incrementAndGet();
                } catch (Throwable t) {
                    failures.add(t);
                }
            }
        });
        load.start();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > 5);
            X509Bundle renewed = pki.server("renewed", true, "localhost");
            replace(TestPki.pem(renewed.getCertificate(), pki.intermediate.getCertificate()),
                    TestPki.keyPem(renewed.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> lastSubject.get() != null && lastSubject.get().startsWith("CN=renewed"));
            int after = ok.get();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > after + 5);
        } finally {
            running.set(false);
            load.join(20_000);
        }
        assertThat(failures).isEmpty();
        assertThat(newConnectionSubject()).startsWith("CN=renewed");
        // The connection opened before keeps its session and certificate, and keeps working.
        assertThat(old.get("/", "localhost", "").status()).isEqualTo(200);
        assertThat(old.peerSubject()).startsWith("CN=original");
        old.close();
    }

    @Test
    void brokenRenewalIsRefusedAndTheOldCertificateKeepsServing() throws Exception {
        start();
        String refusedBefore = refusedCount();
        // Not PEM at all.
        Files.writeString(dir.resolve("site.crt"), "this is not a certificate\n");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !refusedCount().equals(refusedBefore));
        assertThat(newConnectionSubject()).startsWith("CN=original");

        // A valid certificate whose key is another one's.
        String refused2 = refusedCount();
        X509Bundle a = pki.server("renewed", false, "localhost");
        X509Bundle b = pki.server("other", false, "localhost");
        replace(TestPki.pem(a.getCertificate(), pki.intermediate.getCertificate()),
                TestPki.keyPem(b.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !refusedCount().equals(refused2));
        assertThat(newConnectionSubject()).startsWith("CN=original");

        // Fixed: the next change applies.
        replace(TestPki.pem(a.getCertificate(), pki.intermediate.getCertificate()),
                TestPki.keyPem(a.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> newConnectionSubject().startsWith("CN=renewed"));
    }

    private String refusedCount() throws IOException {
        return metrics().lines().filter(l -> l.startsWith("portcullis_config_reloads_total{result=\"refused\"}"))
                .findFirst().orElse("none");
    }
}
