package dev.portcullis.tls;

/** What a {@link HandshakeObserver} tells of the end of a server-side TLS handshake. */
public interface HandshakeOutcome {
    void ok();

    /**
     * @param reason a token for metrics: {@code timeout}, {@code not_tls}, {@code closed}, {@code certificate},
     *               {@code protocol}, {@code other}, or {@code plain_http} (an HTTP request on a TLS port)
     * @param detail the failure's messages, for a log line
     */
    void failed(String reason, String detail);
}
