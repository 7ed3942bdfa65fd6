package dev.portcullis.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Test certificates from netty-pkitesting: a CA, server certificates it issues for names and IPs, client
 * certificates for mTLS, and their PEM files (temporary, deleted at exit) for configs.
 */
public final class TestCerts {
    private TestCerts() {
    }

    /** A root CA named {@code name}. */
    public static X509Bundle ca(String name) {
        try {
            return new CertificateBuilder().subject("CN=" + name).setIsCertificateAuthority(true).ecp256()
                    .notBefore(Instant.now().minus(1, ChronoUnit.DAYS)).notAfter(Instant.now().plus(2, ChronoUnit.DAYS))
                    .buildSelfSigned();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server certificate issued by {@code ca} for the DNS names and IP addresses given (IPs contain no letters). */
    public static X509Bundle server(X509Bundle ca, String... names) {
        CertificateBuilder b = new CertificateBuilder().subject("CN=" + names[0]).ecp256()
                .notBefore(Instant.now().minus(1, ChronoUnit.DAYS)).notAfter(Instant.now().plus(2, ChronoUnit.DAYS))
                .addExtendedKeyUsageServerAuth();
        for (String n : names) {
            if (n.matches("[0-9.:]+")) {
                b.addSanIpAddress(n);
            } else {
                b.addSanDnsName(n);
            }
        }
        try {
            return b.buildIssuedBy(ca);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client certificate issued by {@code ca}. */
    public static X509Bundle client(X509Bundle ca, String name) {
        try {
            return new CertificateBuilder().subject("CN=" + name).ecp256()
                    .notBefore(Instant.now().minus(1, ChronoUnit.DAYS)).notAfter(Instant.now().plus(2, ChronoUnit.DAYS))
                    .addExtendedKeyUsageClientAuth().buildIssuedBy(ca);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The CA's certificate as a PEM file. */
    public static Path caPem(X509Bundle ca) {
        return path(() -> ca.toTempRootCertPem());
    }

    public static Path chainPem(X509Bundle b) {
        return path(() -> b.toTempCertChainPem());
    }

    public static Path keyPem(X509Bundle b) {
        return path(() -> b.toTempPrivateKeyPem());
    }

    private interface FileMaker {
        File make() throws IOException;
    }

    private static Path path(FileMaker m) {
        try {
            File f = m.make();
            f.deleteOnExit();
            return f.toPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
