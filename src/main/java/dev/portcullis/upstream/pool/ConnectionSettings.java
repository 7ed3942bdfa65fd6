package dev.portcullis.upstream.pool;

import dev.portcullis.config.UpstreamConnectionConfig;
import dev.portcullis.config.UpstreamConnectionConfig.Protocol;
import dev.portcullis.tls.ClientTls;
import java.util.Objects;

/**
 * How one upstream's connections are made, compiled: the protocol and, with {@code tls}, the client TLS context.
 * The second half of the pool key (the endpoint is the first): a pooled connection is reused only by an upstream
 * whose settings are equal to those it was opened with. Equal means the same {@code protocol} and {@code tls}
 * record and the same TLS files on disk ({@link ClientTls#equals}), so a reload that changes any of it, or only
 * replaces a CA file, lets the old connections go.
 *
 * @param tls null for clear text
 */
public record ConnectionSettings(Protocol protocol, ClientTls tls) {
    /** Clear-text HTTP/1.1. */
    public static final ConnectionSettings CLEAR_HTTP1 = new ConnectionSettings(Protocol.HTTP1, null);

    /**
     * @param connectTimeoutMillis also bounds the TLS handshake
     * @throws ClientTls.TlsConfigException when a TLS file cannot be used
     */
    public static ConnectionSettings compile(UpstreamConnectionConfig cfg, int connectTimeoutMillis)
            throws ClientTls.TlsConfigException {
        if (cfg.tls() == null) {
            return cfg.protocol() == Protocol.HTTP1 ? CLEAR_HTTP1 : new ConnectionSettings(cfg.protocol(), null);
        }
        return new ConnectionSettings(cfg.protocol(),
                ClientTls.build(cfg.tls(), cfg.protocol() == Protocol.HTTP2, connectTimeoutMillis));
    }

    /** HTTP/2 (over TLS or h2c): one multiplexed connection carries many requests. */
    public boolean multiplexed() {
        return protocol != Protocol.HTTP1;
    }

    /** Whether the TLS files are as they were when compiled (a reload recompiles the upstream otherwise). */
    public boolean filesUnchanged() {
        return tls == null || tls.filesUnchanged();
    }

    /** For fast comparison on the request path: the same object first. */
    boolean sameAs(ConnectionSettings other) {
        return this == other || equals(other);
    }

    @Override
    public String toString() {
        return protocol.key + (tls == null ? "" : "+tls(" + tls.provider() + (tls.verify() ? "" : ", verify off") + ")");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnectionSettings s && s.protocol == protocol && Objects.equals(s.tls, tls);
    }

    @Override
    public int hashCode() {
        return Objects.hash(protocol, tls);
    }
}
