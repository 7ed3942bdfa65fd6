package dev.portcullis.tls;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.NetUtil;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA of a forward listener's {@code intercept_tls}: it issues a certificate for each host a client opens a
 * CONNECT tunnel to, so the proxy can end the client's TLS itself and see the requests inside.
 *
 * <p>Every issued certificate shares one EC P-256 key made at load (as Squid's generated certificates share theirs):
 * issuing is then one signature by the CA key, about a millisecond, done off the event loops. Each host's server
 * context is cached (up to {@link #MAX_HOSTS}, for {@link #CACHE_FOR}); a certificate is valid for {@link #VALIDITY} from
 * an hour ago (clients with a slow clock), and never past the CA's own end. The served chain is the new certificate
 * followed by the {@code ca_cert} file's certificates (an intermediate CA's file may carry its issuers).
 *
 * <p>The contexts offer ALPN {@code http/1.1} only: the requests inside an intercepted tunnel are read as HTTP/1.1.
 */
public final class InterceptAuthority {
    private static final Logger log = LoggerFactory.getLogger(InterceptAuthority.class);
    /** Hosts whose contexts are kept; past it the least used goes (and is issued again if asked for). */
    static final int MAX_HOSTS = 1000;
    /** Validity of an issued certificate; a cached context is made again well before it ends. */
    static final Duration VALIDITY = Duration.ofDays(30);
    static final Duration CACHE_FOR = Duration.ofDays(1);
    private static final Duration BACKDATE = Duration.ofHours(1);
    /**
     * Where certificates are issued: two threads and a bounded queue, so a flood of new host names waits there
     * (and past it fails its handshakes) rather than blocking event loops or growing without bound.
     */
    private static final ExecutorService ISSUER = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(1024), new io.netty.util.concurrent.DefaultThreadFactory("portcullis-intercept-ca",
            true));

    private final X509Certificate caCert;
    private final List<X509Certificate> caChain;
    private final PrivateKey caKey;
    private final String signatureAlgorithm;
    private final KeyPair leafKey;
    private final SslProvider provider;
    private final String fingerprint;
    private final AsyncCache<String, SslContext> contexts = Caffeine.newBuilder().maximumSize(MAX_HOSTS)
            .expireAfterWrite(CACHE_FOR).executor(ISSUER).buildAsync();

    /** A problem with one of the {@code intercept_tls} files; {@link #key} says which. */
    public static final class InvalidCaException extends Exception {
        private final String key;

        InvalidCaException(String key, String message) {
            super(message);
            this.key = key;
        }

        /** {@code ca_cert} or {@code ca_key}. */
        public String key() {
            return key;
        }
    }

    private InterceptAuthority(List<X509Certificate> caChain, PrivateKey caKey, String signatureAlgorithm,
                               KeyPair leafKey) {
        this.caCert = caChain.get(0);
        this.caChain = caChain;
        this.caKey = caKey;
        this.signatureAlgorithm = signatureAlgorithm;
        this.leafKey = leafKey;
        this.provider = TlsProvider.select();
        this.fingerprint = fingerprint(caCert);
    }

    /**
     * Reads and checks the CA: a certificate that may issue others (basicConstraints CA, keyCertSign when a key
     * usage is given), in its validity period, and the private key that belongs to it.
     *
     * @throws InvalidCaException naming the file and what is wrong with it
     */
    public static InterceptAuthority load(Path certFile, Path keyFile) throws InvalidCaException {
        List<X509Certificate> chain;
        try {
            chain = PemFiles.certificates(certFile);
        } catch (IllegalArgumentException e) {
            throw new InvalidCaException("ca_cert", e.getMessage());
        }
        PrivateKey key;
        try {
            key = PemFiles.privateKey(keyFile);
        } catch (IllegalArgumentException e) {
            throw new InvalidCaException("ca_key", e.getMessage());
        }
        X509Certificate ca = chain.get(0);
        String subject = ca.getSubjectX500Principal().getName();
        if (ca.getBasicConstraints() < 0) {
            throw new InvalidCaException("ca_cert", certFile + " (" + subject + ") is not a CA certificate (no "
                    + "basicConstraints CA:TRUE), so clients would refuse what it issues; make a CA, for example "
                    + "with 'openssl req -x509 -new -addext basicConstraints=critical,CA:TRUE ...'");
        }
        boolean[] usage = ca.getKeyUsage();
        if (usage != null && (usage.length <= 5 || !usage[5])) {
            throw new InvalidCaException("ca_cert", certFile + " (" + subject + ") has a keyUsage without "
                    + "keyCertSign: it may not issue certificates");
        }
        Instant now = Instant.now();
        if (now.isAfter(ca.getNotAfter().toInstant())) {
            throw new InvalidCaException("ca_cert", certFile + " (" + subject + ") expired on "
                    + ca.getNotAfter().toInstant() + "; every certificate it issued would be refused. Make a new CA "
                    + "and give it to the clients");
        }
        if (!ServerCertificate.matches(key, ca.getPublicKey())) {
            throw new InvalidCaException("ca_key", keyFile + " is not the private key of the CA certificate in "
                    + certFile + " (" + subject + ")");
        }
        ServerCertificate.warnIfNotValidNow(certFile.toString(), ca, now);
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new InvalidCaException("ca_key", keyFile + ": a " + key.getAlgorithm() + " key cannot "
                    + "sign certificates here; use an RSA, EC or Ed25519 CA key");
        };
        InterceptAuthority authority;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            authority = new InterceptAuthority(List.copyOf(chain), key, alg, g.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a key for intercepted hosts: " + e, e);
        }
        try {
            authority.certificate("key-check.portcullis.invalid", now); // a key it cannot sign with fails here, not at
        } catch (Exception e) {                                        // every client's handshake
            throw new InvalidCaException("ca_key", keyFile + ": cannot sign certificates with this "
                    + key.getAlgorithm() + " key (" + e.getMessage() + "); use an RSA, EC (P-256, P-384) or Ed25519 "
                    + "CA key");
        }
        return authority;
    }

    /** The CA's subject, for logs. */
    public String subject() {
        return caCert.getSubjectX500Principal().getName();
    }

    /** SHA-256 of the CA certificate, colon-separated hex, for logs (operators compare it with what clients trust). */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * The server context for {@code host} (a normalised name or an IP literal without brackets): from the cache, or
     * issued off the event loop. Completes exceptionally when too many are being issued at once.
     */
    public CompletableFuture<SslContext> contextFor(String host) {
        try {
            return contexts.get(host, (h, executor) -> CompletableFuture.supplyAsync(() -> issue(h), executor));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A certificate for {@code host} signed by the CA, and the server context that presents it. */
    SslContext issue(String host) {
        long start = System.nanoTime();
        try {
            X509Certificate leaf = certificate(host, Instant.now());
            List<X509Certificate> chain = new ArrayList<>(caChain.size() + 1);
            chain.add(leaf);
            chain.addAll(caChain);
            SslContext ctx = SslContextBuilder.forServer(leafKey.getPrivate(), chain)
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .ciphers(ServerTls.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .sessionCacheSize(ServerTls.SESSION_CACHE_SIZE)
                    .sessionTimeout(ServerTls.SESSION_TIMEOUT_SECONDS)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
            log.debug("intercept_tls: issued a certificate for {} in {} us", host,
                    (System.nanoTime() - start) / 1000);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("cannot issue a certificate for " + host + ": " + e, e);
        }
    }

    /** The certificate for {@code host}, valid from an hour before {@code now}. */
    X509Certificate certificate(String host, Instant now) throws Exception {
        Instant notAfter = now.plus(VALIDITY);
        if (notAfter.isAfter(caCert.getNotAfter().toInstant())) {
            notAfter = caCert.getNotAfter().toInstant();
        }
        boolean ip = NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
        X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
        if (host.length() <= 64) { // the CN's upper bound (RFC 5280); the SAN is what clients check anyway
            subject.addRDN(BCStyle.CN, host);
        }
        subject.addRDN(BCStyle.O, "Portcullis TLS interception");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert,
                new BigInteger(127, new SecureRandom()), Date.from(now.minus(BACKDATE)), Date.from(notAfter),
                subject.build(), leafKey.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, host)));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(leafKey.getPublic()));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(signatureAlgorithm).build(caKey)));
    }

    private static String fingerprint(X509Certificate cert) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            return "unknown";
        }
    }
}
