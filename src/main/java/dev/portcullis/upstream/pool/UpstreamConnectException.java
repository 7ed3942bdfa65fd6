package dev.portcullis.upstream.pool;

import java.io.IOException;

/**
 * A connect that reached the endpoint but did not give a usable connection: TLS handshake failed, ALPN did not
 * select h2, the endpoint did not speak HTTP/2. The message is safe to show a client (no address, nothing the
 * endpoint sent); the cause, for the log, has the details.
 */
public final class UpstreamConnectException extends IOException {
    public UpstreamConnectException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The message and the underlying cause, for the operator's log. */
    public String detail() {
        Throwable c = getCause();
        if (c == null) {
            return getMessage();
        }
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause(); // the root says most: "PKIX path building failed", "No subject alternative DNS name"
        }
        return getMessage() + " (" + c + ")";
    }
}
