package dev.portcullis.tls;

import dev.portcullis.config.UpstreamConnectionConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The client side of TLS towards one upstream's endpoints ({@code upstreams.NAME.tls}), built once per compiled
 * upstream: BoringSSL through netty-tcnative when it loads, the JDK's TLS otherwise; TLS 1.2 and 1.3 only.
 *
 * <p>With {@code verify} (the default) the endpoint's chain must lead to {@code ca} (or the JDK's default trust
 * store) and its certificate must name the host: {@code sni} when set, else the endpoint's host name, else (an IP
 * endpoint) its IP address as an IP SAN. The checked name is also the engine's peer host, so the JDK cannot fall
 * back to another name. {@code verify: false} trusts any certificate and name (encryption without
 * authentication). SNI sent: {@code sni}, else the endpoint's host name; none for IP literals.
 *
 * <p>Each file's size and modification time are part of {@link #equals}: a reload after a CA or client
 * certificate changed on disk makes a new context, and pooled connections made with the old one are not reused.
 */
public final class ClientTls {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final UpstreamConnectionConfig.Tls config;
    private final List<FileStamp> stamps;
    private final SslContext context;
    private final String provider;
    private final int handshakeTimeoutMillis;

    /** What a file looked like when the context was built. */
    record FileStamp(Path path, long size, FileTime modified) {
        static FileStamp of(Path p) throws IOException {
            return new FileStamp(p, Files.size(p), Files.getLastModifiedTime(p));
        }
    }

    private ClientTls(UpstreamConnectionConfig.Tls config, List<FileStamp> stamps, SslContext context, String provider,
                      int handshakeTimeoutMillis) {
        this.config = config;
        this.stamps = stamps;
        this.context = context;
        this.provider = provider;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** A problem with one of the upstream's {@code tls} keys. */
    public static final class TlsConfigException extends Exception {
        private final String key;

        TlsConfigException(String key, String message, Throwable cause) {
            super(message, cause);
            this.key = key;
        }

        /** {@code ca}, {@code cert} or {@code key}. */
        public String key() {
            return key;
        }
    }

    /**
     * @param http2 offer only ALPN {@code h2} (the connect fails when the endpoint does not select it); else no ALPN
     * @param handshakeTimeoutMillis the upstream's connect timeout, which covers the handshake too
     * @throws TlsConfigException naming the key whose file could not be used
     */
    public static ClientTls build(UpstreamConnectionConfig.Tls cfg, boolean http2, int handshakeTimeoutMillis)
            throws TlsConfigException {
        List<FileStamp> stamps = new ArrayList<>();
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols(PROTOCOLS)
                // Checked per connection against the peer host given to newHandler (see newHandler).
                .endpointIdentificationAlgorithm(cfg.verify() ? "HTTPS" : null);
        if (!cfg.verify()) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else if (cfg.ca() != null) {
            stamps.add(stamp("ca", cfg.ca()));
            try {
                b.trustManager(cfg.ca().toFile());
            } catch (IllegalArgumentException e) {
                throw new TlsConfigException("ca", cfg.ca() + ": no usable CA certificate in it ("
                        + rootMessage(e) + "); expected PEM certificates", e);
            }
        }
        if (cfg.cert() != null) {
            stamps.add(stamp("cert", cfg.cert()));
            stamps.add(stamp("key", cfg.key()));
            try {
                b.keyManager(cfg.cert().toFile(), cfg.key().toFile());
                checkPair(cfg.cert(), cfg.key());
            } catch (IllegalArgumentException e) {
                throw new TlsConfigException("cert", cfg.cert() + " / " + cfg.key() + ": the client certificate or "
                        + "its key could not be read (" + rootMessage(e) + "); expected a PEM certificate chain and "
                        + "its PEM private key", e);
            }
        }
        if (http2) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
        }
        try {
            SslContext ctx = b.build();
            return new ClientTls(cfg, List.copyOf(stamps), ctx, OpenSsl.isAvailable() ? "BoringSSL" : "JDK",
                    handshakeTimeoutMillis);
        } catch (Exception e) {
            String key = cfg.cert() != null ? "cert" : cfg.ca() != null ? "ca" : "verify";
            throw new TlsConfigException(key, "cannot build the TLS client context: " + rootMessage(e)
                    + (cfg.cert() != null ? " (does 'key' belong to 'cert'?)" : ""), e);
        }
    }

    /**
     * Netty builds a context from a certificate and a key of two different pairs and fails only at the
     * handshake: sign with the key, verify with the certificate's public key, here, at load.
     */
    private static void checkPair(Path certFile, Path keyFile) throws TlsConfigException {
        X509Certificate cert;
        PrivateKey key;
        try (InputStream in = Files.newInputStream(certFile)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsConfigException("cert", certFile + ": not a PEM certificate (" + rootMessage(e) + ")", e);
        }
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(keyFile))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                key = conv.getPrivateKey(kp.getPrivateKeyInfo());
            } else if (o instanceof PrivateKeyInfo info) {
                key = conv.getPrivateKey(info);
            } else {
                throw new TlsConfigException("key", keyFile + ": no unencrypted PEM private key in it", null);
            }
        } catch (IOException e) {
            throw new TlsConfigException("key", keyFile + ": cannot read the private key (" + rootMessage(e) + ")", e);
        }
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null) {
            return; // the handshake will tell
        }
        try {
            byte[] probe = "portcullis key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(alg);
            sign.initSign(key);
            sign.update(probe);
            byte[] sig = sign.sign();
            Signature verify = Signature.getInstance(alg);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            if (!verify.verify(sig)) {
                throw new TlsConfigException("key", keyFile + " is not the private key of " + certFile, null);
            }
        } catch (GeneralSecurityException e) {
            throw new TlsConfigException("key", keyFile + " is not the private key of " + certFile + " ("
                    + rootMessage(e) + ")", e);
        }
    }

    private static FileStamp stamp(String key, Path p) throws TlsConfigException {
        try {
            return FileStamp.of(p);
        } catch (IOException e) {
            throw new TlsConfigException(key, "cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /**
     * A handler for a new connection to {@code host:port}: the first in its pipeline.
     *
     * @param host the endpoint's host as configured (a name or an IP literal)
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        String name = config.sni() != null ? config.sni() : host;
        SslHandler h = context.newHandler(alloc, name, port);
        h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        if (!isIp(name)) {
            // The JDK sends SNI only for names with a dot; "localhost" or a short internal name would go without.
            SSLEngine engine = h.engine();
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(name)));
            engine.setSSLParameters(p);
        }
        return h;
    }

    private static boolean isIp(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return NetUtil.isValidIpV4Address(h) || NetUtil.isValidIpV6Address(h);
    }

    /** Whether every file still has the size and modification time it had when the context was built. */
    public boolean filesUnchanged() {
        for (FileStamp s : stamps) {
            try {
                if (!FileStamp.of(s.path()).equals(s)) {
                    return false;
                }
            } catch (IOException e) {
                return false; // gone: let the reload report it
            }
        }
        return true;
    }

    public boolean verify() {
        return config.verify();
    }

    /** "BoringSSL" or "JDK". */
    public String provider() {
        return provider;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientTls t && t.config.equals(config) && t.stamps.equals(stamps);
    }

    @Override
    public int hashCode() {
        return Objects.hash(config, stamps);
    }
}
