package dev.portcullis.tls;

import dev.portcullis.config.ListenerTls;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.OpenSsl;
import java.util.List;

/**
 * The TLS side of one compiled https listener: its server contexts, built once per config snapshot. New
 * connections take the listener's current one; open connections keep the context they were accepted with.
 *
 * <p>MINIMAL SEAM (to be completed): one certificate, no SNI choice yet.
 */
public final class ServerTls {
    private final SslContext context;
    private final List<String> alpn;

    private ServerTls(SslContext context, List<String> alpn) {
        this.context = context;
        this.alpn = alpn;
    }

    /** @throws IllegalArgumentException naming the file and what is wrong with it */
    public static ServerTls build(ListenerTls cfg, boolean http2) {
        ListenerTls.CertificateFiles first = cfg.certificates().get(0);
        List<String> alpn = http2 ? cfg.alpn() : cfg.alpn().stream().filter(p -> !p.equals("h2")).toList();
        try {
            SslContext ctx = SslContextBuilder.forServer(first.cert().toFile(), first.key().toFile())
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .protocols(cfg.minVersion().equals("TLSv1.3") ? new String[] {"TLSv1.3"}
                            : new String[] {"TLSv1.3", "TLSv1.2"})
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn))
                    .build();
            return new ServerTls(ctx, alpn);
        } catch (Exception e) {
            throw new IllegalArgumentException(first.cert() + ": " + e.getMessage(), e);
        }
    }

    /** The first handler of a new connection's pipeline. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }

    public List<String> alpn() {
        return alpn;
    }
}
