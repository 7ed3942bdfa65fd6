package dev.portcullis.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One certificate of a listener, read and checked: its chain (leaf first), its private key (proven to belong to
 * the leaf), and the server names it answers for (the leaf's DNS SANs, or its CN when it has no SAN).
 *
 * @param source the certificate file, or a description such as "self-signed" for messages
 */
public record ServerCertificate(String source, List<X509Certificate> chain, PrivateKey key, List<String> names) {
    private static final Logger log = LoggerFactory.getLogger(ServerCertificate.class);
    private static final int SAN_DNS = 2;

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /**
     * Reads a certificate/key pair from PEM files.
     *
     * @throws IllegalArgumentException naming the file: unreadable, not PEM, no certificate, key not matching
     */
    public static ServerCertificate load(Path certFile, Path keyFile) {
        List<X509Certificate> chain = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        X509Certificate leaf = chain.get(0);
        if (!matches(key, leaf.getPublicKey())) {
            throw new IllegalArgumentException(keyFile + ": this private key does not belong to the certificate in "
                    + certFile + " (" + leaf.getSubjectX500Principal().getName() + "); check that the pair was not "
                    + "mixed up and that the certificate file starts with the leaf certificate");
        }
        warnIfNotValidNow(certFile.toString(), leaf, Instant.now());
        return new ServerCertificate(certFile.toString(), List.copyOf(chain), key, names(leaf));
    }

    /** Signs a challenge with the key and verifies it with the certificate's public key. */
    static boolean matches(PrivateKey key, PublicKey pub) {
        String alg = switch (pub.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "DSA" -> "SHA256withDSA";
            default -> null;
        };
        if (alg == null || !pub.getAlgorithm().equals(key.getAlgorithm())) {
            return false;
        }
        try {
            byte[] challenge = "portcullis key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** An expired or not yet valid certificate still serves (clients decide), but the operator should know. */
    static void warnIfNotValidNow(String source, X509Certificate leaf, Instant now) {
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            log.warn("TLS certificate {} ({}) EXPIRED on {}; clients will refuse it. Renew it; it is served meanwhile",
                    source, leaf.getSubjectX500Principal().getName(), leaf.getNotAfter().toInstant());
        } else if (now.isBefore(leaf.getNotBefore().toInstant())) {
            log.warn("TLS certificate {} ({}) is NOT VALID YET: valid from {}; clients will refuse it until then "
                    + "(check this machine's clock)", source, leaf.getSubjectX500Principal().getName(),
                    leaf.getNotBefore().toInstant());
        }
    }

    /** DNS names of the subjectAltName extension, lower case; the subject's CN only when there is no SAN at all. */
    static List<String> names(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            sans = null;
        }
        if (sans != null && !sans.isEmpty()) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(SAN_DNS).equals(san.get(0)) && san.get(1) instanceof String dns) {
                    out.add(dns.toLowerCase(Locale.ROOT));
                }
            }
            return out;
        }
        try {
            for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    out.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                }
            }
        } catch (InvalidNameException e) {
            // no usable CN: the certificate can still be the default
        }
        return out;
    }
}
