package dev.portcullis.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.TestCerts;
import dev.portcullis.testing.TestPki;
import io.netty.handler.ssl.SslContext;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interception CA: what it accepts as a CA, and the certificates it issues (a chain that validates to it, the
 * host as the only SAN, server use only, never outliving the CA), cached per host.
 */
class InterceptAuthorityTest {
    @TempDir
    Path dir;

    private InterceptAuthority load(X509Bundle ca) throws Exception {
        Path cert = dir.resolve("ca.pem");
        Path key = dir.resolve("ca.key");
        Files.writeString(cert, TestPki.pem(ca.getCertificate()));
        Files.writeString(key, TestPki.keyPem(ca.getKeyPair().getPrivate(), TestPki.KeyFormat.PKCS8));
        return InterceptAuthority.load(cert, key);
    }

    private static void validates(X509Certificate leaf, X509Bundle ca) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca.getCertificate(), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                .generateCertPath(List.of(leaf)), params);
    }

    @Test
    void issuesAServerCertificateForTheHostThatValidatesToTheCa() throws Exception {
        for (X509Bundle ca : List.of(TestCerts.ca("EC CA"), new CertificateBuilder().subject("CN=RSA CA")
                .setIsCertificateAuthority(true).rsa2048().notBefore(Instant.now().minus(1, ChronoUnit.DAYS))
                .notAfter(Instant.now().plus(365, ChronoUnit.DAYS)).buildSelfSigned())) {
            InterceptAuthority a = load(ca);
            Instant now = Instant.now();
            X509Certificate leaf = a.certificate("shop.example.test", now);
            validates(leaf, ca);
            assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "shop.example.test"));
            assertThat(leaf.getSubjectX500Principal().getName()).contains("CN=shop.example.test");
            assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
            assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
            assertThat(leaf.getNotBefore().toInstant()).isBefore(now.minus(59, ChronoUnit.MINUTES));
            Instant caEnd = ca.getCertificate().getNotAfter().toInstant();
            Instant expectedEnd = now.plus(InterceptAuthority.VALIDITY).isAfter(caEnd) ? caEnd
                    : now.plus(InterceptAuthority.VALIDITY);
            assertThat(leaf.getNotAfter().toInstant()).isBetween(expectedEnd.minusSeconds(1), expectedEnd);
            assertThat(a.subject()).isEqualTo(ca.getCertificate().getSubjectX500Principal().getName());
        }
    }

    @Test
    void anIpHostGetsAnIpSanAndALongNameNoCommonName() throws Exception {
        InterceptAuthority a = load(TestCerts.ca("CA"));
        assertThat(a.certificate("::1", Instant.now()).getSubjectAlternativeNames())
                .containsExactly(List.of(7, "0:0:0:0:0:0:0:1"));
        String longName = "a".repeat(60) + ".example.test";
        X509Certificate leaf = a.certificate(longName, Instant.now());
        assertThat(leaf.getSubjectX500Principal().getName()).doesNotContain("CN=");
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, longName));
    }

    @Test
    void contextsAreIssuedOnceAndCachedPerHost() throws Exception {
        InterceptAuthority a = load(TestCerts.ca("CA"));
        SslContext first = a.contextFor("one.test").get(10, TimeUnit.SECONDS);
        assertThat(a.contextFor("one.test").get(10, TimeUnit.SECONDS)).isSameAs(first);
        assertThat(a.contextFor("two.test").get(10, TimeUnit.SECONDS)).isNotSameAs(first);
        assertThat(first.isServer()).isTrue();
    }

    @Test
    void refusesWhatCannotIssueCertificates() throws Exception {
        X509Bundle ca = TestCerts.ca("CA");
        X509Bundle leaf = TestCerts.server(ca, "leaf.test");
        assertThatThrownBy(() -> load(leaf)).isInstanceOf(InterceptAuthority.InvalidCaException.class)
                .hasMessageContaining("is not a CA certificate")
                .satisfies(e -> assertThat(((InterceptAuthority.InvalidCaException) e).key()).isEqualTo("ca_cert"));
        // a key of another pair
        Path cert = dir.resolve("ca.pem");
        Path key = dir.resolve("other.key");
        Files.writeString(cert, TestPki.pem(ca.getCertificate()));
        Files.writeString(key, TestPki.keyPem(leaf.getKeyPair().getPrivate(), TestPki.KeyFormat.TRADITIONAL));
        assertThatThrownBy(() -> InterceptAuthority.load(cert, key))
                .isInstanceOf(InterceptAuthority.InvalidCaException.class)
                .hasMessageContaining("is not the private key of the CA certificate")
                .satisfies(e -> assertThat(((InterceptAuthority.InvalidCaException) e).key()).isEqualTo("ca_key"));
        // not PEM at all
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "hello");
        assertThatThrownBy(() -> InterceptAuthority.load(garbage, key))
                .isInstanceOf(InterceptAuthority.InvalidCaException.class)
                .hasMessageContaining(garbage.toString());
    }
}
