package dev.portcullis.tls;

import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What the TLS session of a client connection says, for the {@code {tls.*}} placeholders, X-Forwarded-Proto and the
 * access log. Computed from the session itself (never from anything the client sends in HTTP), once per connection,
 * on first use after the handshake. Values are empty strings when absent (no TLS, no SNI, no client certificate).
 *
 * @param sni               the server name the client asked for in its ClientHello
 * @param clientSubject     the client certificate's subject DN (RFC 2253), such as {@code CN=alice,O=Example}
 * @param clientFingerprint SHA-256 of the client certificate's DER encoding, lower-case hex without separators
 */
public record TlsInfo(boolean secure, String sni, String version, String cipher, String clientSubject,
                      String clientFingerprint) {
    public static final TlsInfo NONE = new TlsInfo(false, "", "", "", "", "");
    /** Set by the SNI handler on the connection's channel: the name it chose the certificate by. */
    static final AttributeKey<String> SNI = AttributeKey.valueOf("portcullis.tls.sni");
    private static final AttributeKey<TlsInfo> INFO = AttributeKey.valueOf("portcullis.tls.info");
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /**
     * The TLS facts of the connection {@code ch} belongs to. {@code ch} may be the accepted connection itself or an
     * HTTP/2 stream's child channel, whose parent is the connection (the one with the SslHandler).
     */
    /**
     * The connection's TLS changed (an intercepted CONNECT tunnel finished its handshake): what was remembered of it
     * (no TLS at all, when the CONNECT itself was logged) is forgotten, and the SNI the client sent is kept.
     */
    static void tlsStarted(Channel conn, String sni) {
        conn.attr(INFO).set(null);
        if (sni != null) {
            conn.attr(SNI).set(sni);
        }
    }

    public static TlsInfo of(Channel ch) {
        Channel parent = ch.parent();
        Channel conn = parent != null && !(parent instanceof ServerChannel) ? parent : ch;
        Attribute<TlsInfo> attr = conn.attr(INFO);
        TlsInfo info = attr.get();
        if (info != null) {
            return info;
        }
        SslHandler ssl = conn.pipeline().get(SslHandler.class);
        if (ssl == null) {
            info = NONE;
        } else if (!ssl.handshakeFuture().isSuccess()) {
            return NONE; // not yet (or never) secure: not cached, asked again later
        } else {
            SSLEngine engine = ssl.engine();
            // Without client_auth no certificate was asked for: asking the session for one would only throw.
            boolean asked = engine.getNeedClientAuth() || engine.getWantClientAuth();
            info = from(engine.getSession(), conn.attr(SNI).get(), asked);
        }
        attr.set(info);
        return info;
    }

    static TlsInfo from(SSLSession session, String sni, boolean clientCertificateAsked) {
        String subject = "";
        String fingerprint = "";
        try {
            Certificate[] peer = clientCertificateAsked ? session.getPeerCertificates() : new Certificate[0];
            if (peer.length > 0 && peer[0] instanceof X509Certificate c) {
                subject = c.getSubjectX500Principal().getName();
                fingerprint = sha256Hex(c.getEncoded());
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate
        } catch (CertificateEncodingException e) {
            fingerprint = "";
        }
        return new TlsInfo(true, sni == null ? "" : sni, nz(session.getProtocol()), nz(session.getCipherSuite()),
                subject, fingerprint);
    }

    static String sha256Hex(byte[] der) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(der);
            char[] out = new char[d.length * 2];
            for (int i = 0; i < d.length; i++) {
                out[2 * i] = HEX[(d[i] >> 4) & 0xf];
                out[2 * i + 1] = HEX[d[i] & 0xf];
            }
            return new String(out);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String nz(String s) {
        return s == null || s.equals("NONE") ? "" : s;
    }
}
