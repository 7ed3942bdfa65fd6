package dev.portcullis.config;

import java.nio.file.Path;

/**
 * How the proxy talks to an upstream's endpoints: {@code protocol} and {@code tls}. Part of the pool key: a
 * pooled connection is reused only by an upstream whose settings are equal.
 *
 * @param tls null for clear text
 */
public record UpstreamConnectionConfig(Protocol protocol, Tls tls) {
    public static final UpstreamConnectionConfig DEFAULT = new UpstreamConnectionConfig(Protocol.HTTP1, null);

    public enum Protocol {
        /** HTTP/1.1 (over TLS when {@code tls} is set). */
        HTTP1("http1"),
        /** HTTP/2 over TLS with ALPN {@code h2}. */
        HTTP2("http2"),
        /** HTTP/2 in clear text with prior knowledge (gRPC backends). */
        H2C("h2c");

        public final String key;

        Protocol(String key) {
            this.key = key;
        }
    }

    /**
     * @param sni    server name sent and verified; null: the endpoint's host name when it has one (none for IPs)
     * @param verify check the endpoint's certificate chain and name (default true)
     * @param ca     PEM bundle to trust instead of the JDK's default trust store; null for the default
     * @param cert   client certificate (PEM chain) for mTLS; null for none
     * @param key    its private key; set exactly when {@code cert} is
     * @param line   line of the {@code tls} key, for errors found when the files are used; not part of equality
     *               (moving the section in the file changes nothing)
     */
    public record Tls(String sni, boolean verify, Path ca, Path cert, Path key, int line) {
        public Tls(String sni, boolean verify, Path ca, Path cert, Path key) {
            this(sni, verify, ca, cert, key, 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tls t && t.verify == verify && java.util.Objects.equals(t.sni, sni)
                    && java.util.Objects.equals(t.ca, ca) && java.util.Objects.equals(t.cert, cert)
                    && java.util.Objects.equals(t.key, key);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(sni, verify, ca, cert, key);
        }
    }
}
