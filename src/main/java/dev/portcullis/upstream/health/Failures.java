package dev.portcullis.upstream.health;

import dev.portcullis.tls.ClientTlsFailures;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.net.ConnectException;
import java.util.Locale;

/** A short reason for a failed probe, for the operator's log. */
final class Failures {
    private Failures() {}

    static String describe(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof SslHandshakeTimeoutException) {
                return "TLS handshake failed: " + ClientTlsFailures.reason(cause);
            }
        }
        if (cause instanceof ConnectTimeoutException) {
            return "connect timed out";
        }
        String m = cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
        if (cause instanceof ConnectException) {
            return m.contains("refused") ? "connection refused" : "could not connect (" + cause.getMessage() + ")";
        }
        if (m.contains("reset")) {
            return "connection reset";
        }
        return cause.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + cause.getMessage());
    }
}
