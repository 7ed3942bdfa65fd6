package dev.portcullis.tls;

import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ocsp_staple: FILE}: an OCSP response the operator fetched (as nginx's {@code ssl_stapling_file}; e.g.
 * {@code openssl ocsp -issuer CA -cert CERT -url URL -respout FILE}), stapled to every handshake of that
 * certificate. The proxy does not fetch responses itself. Only BoringSSL can staple; with the JDK's TLS the file is
 * checked and a warning says it is not sent. Re-read when the file changes (as certificates are).
 */
final class OcspStaple {
    private static final Logger log = LoggerFactory.getLogger(OcspStaple.class);

    private OcspStaple() {
    }

    /**
     * @return the DER bytes to staple, or null when the provider cannot staple
     * @throws IllegalArgumentException naming the file: unreadable, not an OCSP response, not about this certificate
     */
    static byte[] read(Path file, X509Certificate leaf, SslProvider provider) {
        byte[] der;
        try {
            der = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the OCSP response: " + e.getMessage(), e);
        }
        try {
            OCSPResp resp = new OCSPResp(der);
            if (resp.getStatus() != OCSPResp.SUCCESSFUL) {
                throw new IllegalArgumentException(file + ": the OCSP response's status is " + resp.getStatus()
                        + ", not successful (0); fetch it again");
            }
            if (!(resp.getResponseObject() instanceof BasicOCSPResp basic)) {
                throw new IllegalArgumentException(file + ": not a basic OCSP response");
            }
            SingleResp mine = null;
            for (SingleResp r : basic.getResponses()) {
                if (r.getCertID().getSerialNumber().equals(leaf.getSerialNumber())) {
                    mine = r;
                }
            }
            if (mine == null) {
                throw new IllegalArgumentException(file + ": this OCSP response is not about the certificate (serial "
                        + leaf.getSerialNumber().toString(16) + "); fetch the response for this certificate");
            }
            if (mine.getNextUpdate() != null && Instant.now().isAfter(mine.getNextUpdate().toInstant())) {
                log.warn("OCSP response {} is out of date since {}; clients may ignore it. Fetch a fresh one",
                        file, mine.getNextUpdate().toInstant());
            }
        } catch (IOException | OCSPException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
                    && iae.getMessage().startsWith(file.toString())) {
                throw iae;
            }
            throw new IllegalArgumentException(file + ": not a DER-encoded OCSP response: " + e.getMessage(), e);
        }
        if (provider != SslProvider.OPENSSL) {
            log.warn("ocsp_staple {}: not stapled, the JDK's TLS provider cannot staple a response from a file "
                    + "(BoringSSL is not in use)", file);
            return null;
        }
        return der;
    }
}
