package dev.portcullis.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One TLS connection to 127.0.0.1 with a chosen SNI name (or none) and protocol versions, for tests that look at
 * which certificate the server chose, and then send one HTTP/1.1 request on it.
 */
public final class TlsClient implements AutoCloseable {
    public final SSLSocket socket;

    private TlsClient(SSLSocket socket) {
        this.socket = socket;
    }

    /**
     * Connects and completes the handshake (throws if it fails).
     *
     * @param sni       the server name to send, or null to send none
     * @param protocols such as "TLSv1.2", or none for the client's defaults
     */
    public static TlsClient connect(SSLContext ctx, int port, String sni, String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        try {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            if (protocols.length > 0) {
                p.setProtocols(protocols);
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return new TlsClient(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public X509Certificate peer() throws IOException {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    public String peerSubject() throws IOException {
        return peer().getSubjectX500Principal().getName();
    }

    /** Sends a GET with the given extra header lines (each ending in CRLF) and reads the response. */
    public Wire.Message get(String path, String host, String extraHeaders) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return Wire.readResponse(socket.getInputStream(), false);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
