package dev.portcullis.tls;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * Names why a TLS handshake with an upstream failed, in words safe to show a client: no address, no certificate
 * subject, nothing the endpoint chose to send. The full exception goes to the log.
 */
public final class ClientTlsFailures {
    private ClientTlsFailures() {
    }

    /** A short reason, such as "certificate not trusted" or "certificate does not match the name". */
    public static String reason(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SslHandshakeTimeoutException) {
                return "handshake timed out";
            }
            if (t instanceof CertificateExpiredException) {
                return "certificate expired";
            }
            if (t instanceof CertificateNotYetValidException) {
                return "certificate not yet valid";
            }
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return "certificate not trusted";
            }
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("no subject alternative") || m.contains("no name matching")
                    || m.contains("hostname mismatch") || m.contains("does not match")) {
                return "certificate does not match the name";
            }
            if (m.contains("unable to find valid certification path") || m.contains("pkix path")
                    || m.contains("certificate_verify_failed") || m.contains("unknown_ca")) {
                return "certificate not trusted";
            }
            if (m.contains("certificate_required") || m.contains("bad_certificate")
                    || m.contains("handshake_failure") && m.contains("alert")) {
                return "the endpoint refused the handshake (does it require a client certificate?)";
            }
            if (m.contains("alert")) {
                int i = m.indexOf("alert");
                return "the endpoint refused the handshake (" + m.substring(i, Math.min(m.length(), i + 40)).trim() + ")";
            }
            if (m.contains("unrecognized ssl message") || m.contains("wrong_version_number")
                    || m.contains("not an ssl/tls record") || m.contains("plaintext connection")) {
                return "the endpoint does not speak TLS";
            }
            if (t instanceof ClosedChannelException || m.contains("connection reset")) {
                return "the endpoint closed the connection during the handshake";
            }
        }
        return cause.getClass().getSimpleName();
    }
}
