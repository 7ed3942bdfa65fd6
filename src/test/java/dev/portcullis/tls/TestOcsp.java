package dev.portcullis.tls;

import io.netty.pkitesting.X509Bundle;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.jcajce.JcaBasicOCSPRespBuilder;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/** A "good" OCSP response about a certificate, signed by its issuer, as a responder would send it (DER). */
final class TestOcsp {
    private TestOcsp() {
    }

    static byte[] goodResponse(X509Certificate leaf, X509Bundle issuer) throws Exception {
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
        CertificateID id = new CertificateID(digests.get(CertificateID.HASH_SHA1),
                new JcaX509CertificateHolder(issuer.getCertificate()), leaf.getSerialNumber());
        JcaBasicOCSPRespBuilder b = new JcaBasicOCSPRespBuilder(issuer.getCertificate().getPublicKey(),
                digests.get(CertificateID.HASH_SHA1));
        b.addResponse(id, CertificateStatus.GOOD, new Date(), Date.from(Instant.now().plus(1, ChronoUnit.DAYS)), null);
        BasicOCSPResp basic = b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(issuer.getKeyPair().getPrivate()), new X509CertificateHolder[0], new Date());
        return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
    }

    static OCSPResp parse(byte[] der) throws Exception {
        return new OCSPResp(der);
    }
}
