package dev.portcullis.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM certificates and private keys with BouncyCastle's parser, which knows every key form operators meet:
 * PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) and SEC1 ({@code BEGIN EC PRIVATE
 * KEY}, with or without an {@code EC PARAMETERS} block before it). Errors are {@link IllegalArgumentException}s
 * whose message names the file and what is wrong, ready for a config error.
 */
public final class PemFiles {
    private static final JcaX509CertificateConverter CERTS = new JcaX509CertificateConverter();
    private static final JcaPEMKeyConverter KEYS = new JcaPEMKeyConverter();

    private PemFiles() {
    }

    /** Every certificate of the file in order (a chain: leaf first). */
    public static List<X509Certificate> certificates(Path file) {
        List<X509Certificate> out = new ArrayList<>();
        try (PEMParser p = parser(file)) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) {
                    out.add(CERTS.getCertificate(h));
                }
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": not a valid PEM certificate file: " + reason(e), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no certificate in the file; expected PEM blocks "
                    + "'-----BEGIN CERTIFICATE-----' (the certificate first, then its chain)");
        }
        return out;
    }

    /** The one private key of the file. */
    public static PrivateKey privateKey(Path file) {
        try (PEMParser p = parser(file)) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof PEMKeyPair kp) {
                    return traditional(kp);
                } else if (o instanceof PrivateKeyInfo info) {
                    return KEYS.getPrivateKey(info);
                } else if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new IllegalArgumentException(file + ": the private key is encrypted; give an unencrypted "
                            + "key (openssl pkey -in KEY -out KEY.plain) and protect the file's permissions instead");
                }
                // EC PARAMETERS, certificates and other blocks beside the key are skipped.
            }
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": not a valid PEM private key: " + reason(e), e);
        }
        throw new IllegalArgumentException(file + ": no private key in the file; expected a PEM block such as "
                + "'-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN EC PRIVATE KEY-----'");
    }

    /**
     * A PKCS#1 or SEC1 key. A SEC1 key may leave its curve out of the private part (it is optional there); the
     * public key's algorithm identifier names it then.
     */
    private static PrivateKey traditional(PEMKeyPair kp) throws IOException {
        try {
            return KEYS.getPrivateKey(kp.getPrivateKeyInfo());
        } catch (IOException | RuntimeException e) {
            if (kp.getPublicKeyInfo() == null) {
                throw e;
            }
            return KEYS.getPrivateKey(new PrivateKeyInfo(kp.getPublicKeyInfo().getAlgorithm(),
                    kp.getPrivateKeyInfo().parsePrivateKey()));
        }
    }

    private static PEMParser parser(Path file) throws IOException {
        Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        return new PEMParser(r);
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = e.getMessage();
        String root = t.getMessage();
        if (m == null) {
            return t.toString();
        }
        return root == null || root.equals(m) || t == e ? m : m + " (" + root + ")";
    }
}
