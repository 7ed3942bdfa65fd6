package dev.portcullis.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code self_signed: true}: a throwaway certificate for development (EC P-256, names localhost and 127.0.0.1,
 * valid 30 days), made once per process so config reloads keep serving the same one (clients that were told to
 * trust it keep trusting it).
 */
final class DevelopmentCertificate {
    private static final Logger log = LoggerFactory.getLogger(DevelopmentCertificate.class);
    static final Duration VALIDITY = Duration.ofDays(30);
    private static ServerCertificate instance;

    private DevelopmentCertificate() {
    }

    static synchronized ServerCertificate get() {
        if (instance == null || Instant.now().isAfter(instance.leaf().getNotAfter().toInstant())) {
            instance = generate();
            log.warn("TLS: generated a SELF-SIGNED certificate for localhost/127.0.0.1 (self_signed: true), valid "
                    + "until {}. FOR DEVELOPMENT ONLY: clients do not trust it; configure 'certificates' in production",
                    instance.leaf().getNotAfter().toInstant());
        }
        return instance;
    }

    private static ServerCertificate generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair kp = g.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=localhost,O=Portcullis development (self-signed)");
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(VALIDITY)), subject, kp.getPublic());
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
            return new ServerCertificate("self-signed (development)", List.of(cert), kp.getPrivate(),
                    List.of("localhost"));
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot generate the self-signed development certificate: " + e, e);
        }
    }
}
