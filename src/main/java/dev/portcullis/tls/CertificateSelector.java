package dev.portcullis.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Mapping;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The first TLS handler of a connection: reads the ClientHello's server name, picks the certificate's context
 * (exact name, then {@code *.} wildcard, else the listener's first certificate) and replaces itself with the
 * SslHandler of that context. Remembers the name for {@code {tls.sni}} and sets what the context builder cannot:
 * the server's cipher order wins.
 */
final class CertificateSelector extends SniHandler {
    private final ServerTls tls;

    CertificateSelector(Mapping<String, SslContext> mapping, ServerTls tls, long handshakeTimeoutMillis) {
        super(mapping, handshakeTimeoutMillis);
        this.tls = tls;
    }

    @Override
    protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext context) throws Exception {
        if (hostname != null) {
            ctx.channel().attr(TlsInfo.SNI).set(hostname);
        }
        super.replaceHandler(ctx, hostname, context);
    }

    @Override
    protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
        SslHandler handler = super.newSslHandler(context, allocator);
        SSLEngine engine = handler.engine();
        SSLParameters p = engine.getSSLParameters();
        p.setUseCipherSuitesOrder(true);
        engine.setSSLParameters(p);
        tls.staple(context, engine);
        return handler;
    }
}
