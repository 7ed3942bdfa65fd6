package dev.portcullis.testing;

import io.netty.pkitesting.X509Bundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import javax.net.ssl.SSLContext;

/**
 * A test CA and a server certificate it issued for localhost and 127.0.0.1 ({@link TestCerts}), written as PEM files
 * in one directory (for an https listener's {@code tls.certificates} and curl's {@code --cacert}), plus a client
 * SSLContext trusting the CA.
 */
public final class H2TestCerts {
    public final Path dir;
    public final Path cert;
    public final Path key;
    public final Path ca;
    private final X509Bundle caBundle;

    private H2TestCerts(Path dir, Path cert, Path key, Path ca, X509Bundle caBundle) {
        this.dir = dir;
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        this.caBundle = caBundle;
    }

    public static H2TestCerts create() throws Exception {
        X509Bundle root = TestCerts.ca("Portcullis Test CA");
        X509Bundle server = TestCerts.server(root, "localhost", "127.0.0.1");
        Path dir = Files.createTempDirectory("h2-certs");
        Path cert = Files.writeString(dir.resolve("server.crt"), server.getCertificatePathPEM());
        Path key = Files.writeString(dir.resolve("server.key"), server.getPrivateKeyPEM());
        Path ca = Files.writeString(dir.resolve("ca.crt"), root.getCertificatePEM());
        return new H2TestCerts(dir, cert, key, ca, root);
    }

    /** The {@code tls:} value of an https listener using this certificate. */
    public String tlsYaml() {
        return "{ certificates: [ { cert: \"" + cert + "\", key: \"" + key + "\" } ] }";
    }

    /** A client context that trusts the test CA. */
    public SSLContext clientContext() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, caBundle.toTrustManagerFactory().getTrustManagers(), new SecureRandom());
        return ctx;
    }
}
