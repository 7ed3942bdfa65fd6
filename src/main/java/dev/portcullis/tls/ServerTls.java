package dev.portcullis.tls;

import dev.portcullis.config.ListenerTls;
import dev.portcullis.observe.ListenerStats;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS side of one compiled https listener: one server context per certificate, and the SNI mapping that picks
 * among them. Built on every config load (so a changed certificate file is read again even when the config text
 * is the same); new connections take the listener's current one, open connections keep the context they were
 * accepted with.
 */
public final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    /** Handshake (ClientHello included) must finish within this, or the connection is closed. */
    static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final long SESSION_CACHE_SIZE = 20_480;
    static final long SESSION_TIMEOUT_SECONDS = 300;

    /**
     * TLS 1.3 suites (all AEAD; BoringSSL does not let them be chosen, the JDK does) and, for TLS 1.2, only ECDHE
     * (forward secrecy) with AES-GCM or ChaCha20-Poly1305, ECDSA before RSA, in the server's order of preference.
     */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** Where a problem with the listener's TLS files is reported (a config error at that entry's line). */
    public interface Problems {
        void at(int line, String path, String message);
    }

    private final Mapping<String, SslContext> mapping;
    private final List<String> alpn;
    private final SslProvider provider;
    private final int certificateCount;
    /** DER OCSP responses to staple, by the context of the certificate they are about (BoringSSL only). */
    private final Map<SslContext, byte[]> staples;

    private ServerTls(Mapping<String, SslContext> mapping, List<String> alpn, SslProvider provider,
                      int certificateCount, Map<SslContext, byte[]> staples) {
        this.mapping = mapping;
        this.alpn = alpn;
        this.provider = provider;
        this.certificateCount = certificateCount;
        this.staples = staples;
    }

    /**
     * Reads and checks every certificate, key and CA file of the listener and builds its contexts.
     *
     * @param http2 false drops h2 from the ALPN list
     * @return null when {@code problems} was told of at least one problem
     */
    public static ServerTls build(ListenerTls cfg, boolean http2, Problems problems) {
        SslProvider provider = TlsProvider.select();
        List<String> alpn = http2 ? cfg.alpn() : cfg.alpn().stream().filter(p -> !p.equals("h2")).toList();

        List<X509Certificate> trusted = null;
        if (cfg.clientAuth().mode() != ListenerTls.ClientAuthMode.NONE) {
            try {
                trusted = PemFiles.certificates(cfg.clientAuth().ca());
            } catch (IllegalArgumentException e) {
                problems.at(cfg.clientAuth().line(), cfg.clientAuth().path(), "ca: " + e.getMessage());
            }
        }
        List<ServerCertificate> certs = new ArrayList<>();
        List<byte[]> staples = new ArrayList<>();
        boolean bad = cfg.clientAuth().mode() != ListenerTls.ClientAuthMode.NONE && trusted == null;
        for (ListenerTls.CertificateFiles f : cfg.certificates()) {
            try {
                certs.add(ServerCertificate.load(f.cert(), f.key()));
                staples.add(f.ocspStaple() == null ? null
                        : OcspStaple.read(f.ocspStaple(), certs.get(certs.size() - 1).leaf(), provider));
            } catch (IllegalArgumentException e) {
                problems.at(f.line(), f.path(), e.getMessage());
                bad = true;
            }
        }
        if (bad) {
            return null;
        }
        if (cfg.selfSigned()) {
            certs.add(DevelopmentCertificate.get());
            staples.add(null);
        }
        Map<SslContext, byte[]> stapleOf = new IdentityHashMap<>();
        DomainWildcardMappingBuilder<SslContext> names = null;
        Set<String> taken = new LinkedHashSet<>();
        for (int i = 0; i < certs.size(); i++) {
            ServerCertificate c = certs.get(i);
            SslContext ctx;
            try {
                ctx = context(c, cfg, alpn, trusted, provider, staples.get(i) != null);
            } catch (SSLException | RuntimeException e) {
                int line = i < cfg.certificates().size() ? cfg.certificates().get(i).line() : cfg.line();
                String path = i < cfg.certificates().size() ? cfg.certificates().get(i).path() : cfg.path();
                problems.at(line, path, c.source() + ": cannot build a TLS context with this certificate: " + e);
                return null;
            }
            if (staples.get(i) != null) {
                stapleOf.put(ctx, staples.get(i));
            }
            if (names == null) {
                names = new DomainWildcardMappingBuilder<>(ctx); // the first certificate: no SNI or an unknown name
            }
            for (String name : c.names()) {
                if (!taken.add(name)) {
                    log.debug("TLS name {} of {} is served by an earlier certificate of the list", name, c.source());
                    continue;
                }
                try {
                    names.add(name, ctx);
                } catch (IllegalArgumentException e) {
                    log.warn("TLS certificate {}: name '{}' cannot be matched by SNI ({}); it still serves as the "
                            + "default when it is the first", c.source(), name, e.getMessage());
                }
            }
        }
        return new ServerTls(names.build(), alpn, provider, certs.size(), Map.copyOf(stapleOf));
    }

    private static SslContext context(ServerCertificate c, ListenerTls cfg, List<String> alpn,
                                      List<X509Certificate> trusted, SslProvider provider, boolean ocsp)
            throws SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(c.key(), c.chain())
                .sslProvider(provider)
                .protocols(cfg.minVersion().equals("TLSv1.3") ? new String[] {"TLSv1.3"}
                        : new String[] {"TLSv1.3", "TLSv1.2"})
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .sessionCacheSize(SESSION_CACHE_SIZE)
                .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                .applicationProtocolConfig(alpn.isEmpty() ? ApplicationProtocolConfig.DISABLED
                        : new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
        if (trusted != null) {
            b.trustManager(trusted).clientAuth(cfg.clientAuth().mode() == ListenerTls.ClientAuthMode.REQUIRE
                    ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        if (ocsp) {
            b.enableOcsp(true);
        }
        return b.build();
    }

    /**
     * Adds the TLS handlers at the end of a new connection's pipeline: the plain-HTTP detector, the SNI certificate
     * selector (which becomes the SslHandler) and the handshake observer. The protocol handlers go after them.
     */
    public void addHandlers(ChannelPipeline pipeline, String listener, ListenerStats stats) {
        HandshakeObserver observer = HandshakeObserver.forListener(listener, stats);
        pipeline.addLast("plain-http", new PlainHttpDetector(listener, observer));
        pipeline.addLast("sni", new CertificateSelector(mapping, this, HANDSHAKE_TIMEOUT_MILLIS));
        pipeline.addLast("tls-handshake", observer);
    }

    /** Puts the certificate's OCSP response on a new engine, when one is configured (BoringSSL only). */
    void staple(SslContext context, SSLEngine engine) {
        byte[] der = staples.get(context);
        if (der != null && engine instanceof ReferenceCountedOpenSslEngine e) {
            e.setOcspResponse(der);
        }
    }

    public List<String> alpn() {
        return alpn;
    }

    /** For the start log: provider and number of certificates. */
    public String describe() {
        return TlsProvider.describe(provider) + ", " + certificateCount + " certificate" + (certificateCount == 1 ? "" : "s");
    }
}
