package dev.portcullis.config;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code listeners[].tls} of an {@code https} listener. File paths are absolute (relative ones are taken from the
 * config file's directory) and were readable when the config was read; their contents are checked when the
 * listener is compiled, where errors name {@link CertificateFiles#line()} and {@link CertificateFiles#path()}.
 *
 * @param certificates chosen by SNI among their SAN names; the first is the default for unknown names
 * @param selfSigned   generate a development certificate at start (besides or instead of {@code certificates})
 * @param minVersion   {@code TLSv1.2} (default) or {@code TLSv1.3}
 * @param alpn         protocols offered, in order of preference; default {@code [h2, http/1.1]}
 * @param clientAuth   never null ({@link ClientAuth#NONE} by default)
 * @param line         line of the {@code tls} key, for errors about the whole section
 */
public record ListenerTls(
        List<CertificateFiles> certificates,
        boolean selfSigned,
        String minVersion,
        List<String> alpn,
        ClientAuth clientAuth,
        int line,
        String path) {

    public static final List<String> DEFAULT_ALPN = List.of("h2", "http/1.1");

    /**
     * A PEM certificate (with its chain, leaf first) and its PEM private key (PKCS#8 or PKCS#1/SEC1).
     *
     * @param ocspStaple a DER OCSP response about the certificate, stapled to handshakes; null when not set
     */
    public record CertificateFiles(Path cert, Path key, Path ocspStaple, int line, String path) {
        public CertificateFiles(Path cert, Path key, int line, String path) {
            this(cert, key, null, line, path);
        }
    }

    public enum ClientAuthMode { NONE, OPTIONAL, REQUIRE }

    /** @param ca PEM bundle of the CAs client certificates must chain to; null with mode NONE */
    public record ClientAuth(ClientAuthMode mode, Path ca, int line, String path) {
        public static final ClientAuth NONE = new ClientAuth(ClientAuthMode.NONE, null, 0, "");
    }

    /** Every file this listener's TLS reads: a change to one of them reloads the config. */
    public List<Path> files() {
        List<Path> out = new java.util.ArrayList<>();
        for (CertificateFiles c : certificates) {
            out.add(c.cert());
            out.add(c.key());
            if (c.ocspStaple() != null) {
                out.add(c.ocspStaple());
            }
        }
        if (clientAuth.ca() != null) {
            out.add(clientAuth.ca());
        }
        return out;
    }
}
