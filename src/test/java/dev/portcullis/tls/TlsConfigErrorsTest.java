package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.config.ConfigError;
import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.TestPki;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.health.LogCapture;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every problem with a listener's TLS files is a config error naming the entry's line and the file. */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsConfigErrorsTest {
    static TestPki pki;
    @TempDir
    static Path dir;
    static X509Bundle site;

    @BeforeAll
    static void certs() throws Exception {
        pki = new TestPki();
        site = pki.server("localhost", false, "localhost");
        pki.write(dir, "site", site);
    }

    static String yaml(String tls) {
        return TestPki.httpsYaml(tls, "127.0.0.1:9", "", "");
    }

    static String entry(Path cert, Path key) {
        return "certificates:\n  - { cert: '" + cert + "', key: '" + key + "' }\n";
    }

    static List<String> errors(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> TestProxy.start(yaml).close());
        assertThat(e).as("expected a config error").isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    static Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void certificateFileWithoutACertificate() throws Exception {
        Path bad = file("notpem.crt", "hello\n");
        assertThat(errors(yaml(entry(bad, dir.resolve("site.key"))))).containsExactly(
                "<config>:9: listeners[0].tls.certificates[0]: " + bad + ": no certificate in the file; expected PEM "
                        + "blocks '-----BEGIN CERTIFICATE-----' (the certificate first, then its chain)");
    }

    @Test
    void corruptPemCertificate() throws Exception {
        Path bad = file("corrupt.crt", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        assertThat(errors(yaml(entry(bad, dir.resolve("site.key"))))).singleElement().asString()
                .startsWith("<config>:9: listeners[0].tls.certificates[0]: " + bad + ": not a valid PEM certificate file: ");
    }

    @Test
    void keyFileWithoutAKey() throws Exception {
        Path crt = dir.resolve("site.crt");
        assertThat(errors(yaml(entry(crt, crt)))).singleElement().asString().isEqualTo(
                "<config>:9: listeners[0].tls.certificates[0]: " + crt + ": no private key in the file; expected a "
                        + "PEM block such as '-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----' or "
                        + "'-----BEGIN EC PRIVATE KEY-----'");
    }

    @Test
    void keyNotMatchingTheCertificate() throws Exception {
        X509Bundle other = pki.server("other", false, "localhost");
        Path key = file("other.key", TestPki.keyPem(other.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        Path crt = dir.resolve("site.crt");
        assertThat(errors(yaml(entry(crt, key)))).containsExactly("<config>:9: listeners[0].tls.certificates[0]: "
                + key + ": this private key does not belong to the certificate in " + crt
                + " (CN=localhost,O=Portcullis Tests); check that the pair was not mixed up and that the certificate "
                + "file starts with the leaf certificate");
        // An RSA key for an EC certificate, too.
        X509Bundle rsa = pki.server("rsa", true, "localhost");
        Path rsaKey = file("rsa.key", TestPki.keyPem(rsa.getKeyPair().getPrivate(), TestPki.KeyFormat.TRADITIONAL));
        assertThat(errors(yaml(entry(crt, rsaKey)))).singleElement().asString().contains("does not belong");
    }

    @Test
    void chainInTheWrongOrderIsAKeyMismatch() throws Exception {
        Path crt = file("reversed.crt", TestPki.pem(pki.intermediate.getCertificate(), site.getCertificate()));
        assertThat(errors(yaml(entry(crt, dir.resolve("site.key"))))).singleElement().asString()
                .contains("does not belong to the certificate in " + crt + " (CN=Portcullis Test Intermediate CA)");
    }

    @Test
    void encryptedKeyIsRefusedWithAHint() throws Exception {
        Path key = dir.resolve("enc.key");
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256",
                "-pass", "pass:secret", "-out", key.toString());
        assertThat(errors(yaml(entry(dir.resolve("site.crt"), key)))).containsExactly(
                "<config>:9: listeners[0].tls.certificates[0]: " + key + ": the private key is encrypted; give an "
                        + "unencrypted key (openssl pkey -in KEY -out KEY.plain) and protect the file's permissions "
                        + "instead");
    }

    @Test
    void secondEntryIsNamedByItsOwnLine() throws Exception {
        Path bad = file("second.crt", "nope\n");
        String tls = "certificates:\n  - { cert: '" + dir.resolve("site.crt") + "', key: '" + dir.resolve("site.key")
                + "' }\n  - { cert: '" + bad + "', key: '" + dir.resolve("site.key") + "' }\n";
        assertThat(errors(yaml(tls))).singleElement().asString()
                .startsWith("<config>:10: listeners[0].tls.certificates[1]: " + bad + ": no certificate in the file");
    }

    @Test
    void clientAuthCaWithoutCertificates() throws Exception {
        Path ca = file("empty-ca.pem", "\n");
        assertThat(errors(yaml(entry(dir.resolve("site.crt"), dir.resolve("site.key"))
                + "client_auth: { mode: require, ca: '" + ca + "' }"))).singleElement().asString()
                .startsWith("<config>:10: listeners[0].tls.client_auth: ca: " + ca + ": no certificate in the file");
    }

    @Test
    void missingFilesAreNamedByTheReader() {
        Path gone = dir.resolve("gone.crt");
        assertThat(errors(yaml(entry(gone, dir.resolve("site.key"))))).singleElement().asString()
                .contains("cert: file not found: " + gone);
    }

    @Test
    void ocspStapleThatIsNotAnOcspResponse() throws Exception {
        Path staple = file("staple.der", "garbage");
        String tls = "certificates:\n  - { cert: '" + dir.resolve("site.crt") + "', key: '" + dir.resolve("site.key")
                + "', ocsp_staple: '" + staple + "' }\n";
        assertThat(errors(yaml(tls))).singleElement().asString()
                .startsWith("<config>:9: listeners[0].tls.certificates[0]: " + staple + ": not a DER-encoded OCSP response");
    }

    @Test
    void unknownKeyInACertificateEntryIsRefused() {
        String tls = "certificates:\n  - { cert: '" + dir.resolve("site.crt") + "', key: '" + dir.resolve("site.key")
                + "', stapling: on }\n";
        assertThat(errors(yaml(tls))).singleElement().asString().contains("stapling");
    }

    @Test
    void expiredAndNotYetValidCertificatesServeWithAWarning() throws Exception {
        X509Bundle expired = pki.server("expired", false, Instant.now().minus(60, ChronoUnit.DAYS),
                Instant.now().minus(1, ChronoUnit.DAYS), "localhost");
        X509Bundle future = pki.server("future", false, Instant.now().plus(10, ChronoUnit.DAYS),
                Instant.now().plus(60, ChronoUnit.DAYS), "localhost");
        Path e = pki.write(dir, "expired", expired);
        Path f = pki.write(dir, "future", future);
        try (LogCapture log = LogCapture.of(ServerCertificate.class);
             TestProxy proxy = TestProxy.start(yaml(TestPki.certificates(dir, "expired", "future")))) {
            assertThat(proxy.port("web")).isPositive();
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN TLS certificate " + e)
                    .contains("EXPIRED on " + expired.getCertificate().getNotAfter().toInstant()));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN TLS certificate " + f)
                    .contains("NOT VALID YET: valid from " + future.getCertificate().getNotBefore().toInstant()));
        }
    }

    @Test
    void keysAndCertificatesMadeByOpenssl() throws Exception {
        // SEC1 with an EC PARAMETERS block before it, and PKCS#1 RSA: what `openssl ecparam`/`genrsa` write.
        Path ec = dir.resolve("ossl-ec.key");
        Path rsa = dir.resolve("ossl-rsa.key");
        run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", ec.toString());
        run("openssl", "genrsa", "-traditional", "-out", rsa.toString(), "2048");
        assertThat(Files.readString(ec)).startsWith("-----BEGIN EC PARAMETERS-----");
        assertThat(Files.readString(rsa)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        for (Path key : List.of(ec, rsa)) {
            Path crt = dir.resolve(key.getFileName() + ".crt");
            run("openssl", "req", "-x509", "-new", "-key", key.toString(), "-out", crt.toString(), "-days", "2",
                    "-subj", "/CN=ossl.example.com", "-addext", "subjectAltName=DNS:ossl.example.com,DNS:*.ossl.example.com");
            ServerCertificate c = ServerCertificate.load(crt, key);
            assertThat(c.names()).containsExactly("ossl.example.com", "*.ossl.example.com");
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}
