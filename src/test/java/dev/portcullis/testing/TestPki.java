package dev.portcullis.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * A small PKI for TLS tests: a root CA, an intermediate, server and client certificates (ECDSA P-256 or RSA 2048),
 * written as the PEM files an operator would have, and client SSLContexts that trust the root.
 */
public final class TestPki {
    public enum KeyFormat { PKCS8, TRADITIONAL }

    public final X509Bundle root;
    public final X509Bundle intermediate;

    public TestPki() throws Exception {
        root = new CertificateBuilder().subject("CN=Portcullis Test Root CA").setIsCertificateAuthority(true)
                .ecp256().buildSelfSigned();
        intermediate = new CertificateBuilder().subject("CN=Portcullis Test Intermediate CA")
                .setIsCertificateAuthority(true).ecp256().buildIssuedBy(root);
    }

    /** A server certificate issued by the intermediate, for the DNS names and 127.0.0.1. */
    public X509Bundle server(String cn, boolean rsa, String... dnsNames) throws Exception {
        return server(cn, rsa, Instant.now().minus(1, ChronoUnit.DAYS), Instant.now().plus(30, ChronoUnit.DAYS),
                dnsNames);
    }

    public X509Bundle server(String cn, boolean rsa, Instant notBefore, Instant notAfter, String... dnsNames)
            throws Exception {
        CertificateBuilder b = new CertificateBuilder().subject("CN=" + cn + ",O=Portcullis Tests")
                .notBefore(notBefore).notAfter(notAfter)
                .addExtendedKeyUsageServerAuth();
        b = rsa ? b.rsa2048() : b.ecp256();
        for (String n : dnsNames) {
            b.addSanDnsName(n);
        }
        b.addSanIpAddress("127.0.0.1");
        return b.buildIssuedBy(intermediate);
    }

    /**
     * A server certificate made with BouncyCastle directly, for SANs the pkitesting builder refuses (wildcards).
     */
    public X509Bundle serverWithNames(String cn, String... dnsNames) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair kp = g.generateKeyPair();
        X509Certificate issuer = intermediate.getCertificate();
        var b = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(issuer,
                java.math.BigInteger.valueOf(System.nanoTime()), java.util.Date.from(Instant.now().minus(1, ChronoUnit.DAYS)),
                java.util.Date.from(Instant.now().plus(30, ChronoUnit.DAYS)),
                new javax.security.auth.x500.X500Principal("CN=" + cn + ",O=Portcullis Tests"), kp.getPublic());
        var names = new org.bouncycastle.asn1.x509.GeneralName[dnsNames.length];
        for (int i = 0; i < dnsNames.length; i++) {
            names[i] = new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName,
                    dnsNames[i]);
        }
        b.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                new org.bouncycastle.asn1.x509.GeneralNames(names));
        X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(intermediate.getKeyPair().getPrivate())));
        return X509Bundle.fromCertificatePath(new X509Certificate[] {cert, issuer}, root.getCertificate(), kp);
    }

    /** A client certificate issued by the intermediate. */
    public X509Bundle client(String cn) throws Exception {
        return new CertificateBuilder().subject("CN=" + cn + ",O=Portcullis Tests").ecp256()
                .addExtendedKeyUsageClientAuth().buildIssuedBy(intermediate);
    }

    /** Writes {@code name.crt} (leaf, then the intermediate) and {@code name.key}; returns the .crt path. */
    public Path write(Path dir, String name, X509Bundle b) throws IOException {
        return write(dir, name, b, KeyFormat.PKCS8);
    }

    public Path write(Path dir, String name, X509Bundle b, KeyFormat format) throws IOException {
        Path crt = dir.resolve(name + ".crt");
        Files.writeString(crt, pem(b.getCertificate(), intermediate.getCertificate()));
        Files.writeString(dir.resolve(name + ".key"), keyPem(b.getKeyPair().getPrivate(), format));
        return crt;
    }

    /** The root CA as a PEM bundle file (for client_auth.ca, curl --cacert). */
    public Path writeRoot(Path dir) throws IOException {
        Path p = dir.resolve("root-ca.pem");
        Files.writeString(p, pem(root.getCertificate()));
        return p;
    }

    public static String pem(X509Certificate... certs) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (X509Certificate c : certs) {
                w.writeObject(c);
            }
        }
        return out.toString();
    }

    public static String keyPem(PrivateKey key, KeyFormat format) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            if (format == KeyFormat.PKCS8) {
                w.writeObject(new JcaPKCS8Generator(key, null));
            } else if (key.getAlgorithm().equals("EC")) {
                // SEC1 as openssl writes it: with the curve (the JDK's own encoding leaves it to the PKCS#8 wrapper).
                var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getEncoded());
                var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
                var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), null,
                        info.getPrivateKeyAlgorithm().getParameters());
                w.writeObject(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            } else {
                w.writeObject(key); // PKCS#1
            }
        }
        return out.toString();
    }

    /** A client context trusting the root, presenting {@code clientCert} when not null. */
    public SSLContext clientContext(X509Bundle clientCert) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", root.getCertificate());
        tmf.init(ts);
        KeyManagerFactory kmf = null;
        if (clientCert != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("client", clientCert.getKeyPair().getPrivate(), "x".toCharArray(),
                    new Certificate[] {clientCert.getCertificate(), intermediate.getCertificate()});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "x".toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    /** Writes text to a file (tests replace certificate files with it). */
    public static void writeFile(Path p, String text) throws IOException {
        try (Writer w = Files.newBufferedWriter(p)) {
            w.write(text);
        }
    }

    /**
     * A config with one https listener {@code web} on a free port whose one route sends everything to upstream
     * {@code be}.
     *
     * @param tls        the YAML of the {@code tls} section's keys, one per line (indentation added here)
     * @param routeExtra more keys of the route, one per line
     */
    public static String httpsYaml(String tls, String endpoints, String routeExtra, String listenerExtra) {
        return """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    protocol: https
                    tls:
                %s
                %s
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                %s
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(tls.indent(6).stripTrailing(), listenerExtra.indent(4).stripTrailing(),
                routeExtra.indent(8).stripTrailing(), endpoints);
    }

    /** The {@code tls} keys for certificate files written by {@link #write} (name.crt / name.key) in {@code dir}. */
    public static String certificates(Path dir, String... names) {
        StringBuilder sb = new StringBuilder("certificates:\n");
        for (String n : names) {
            sb.append("  - { cert: '").append(dir.resolve(n + ".crt")).append("', key: '")
                    .append(dir.resolve(n + ".key")).append("' }\n");
        }
        return sb.toString();
    }
}
