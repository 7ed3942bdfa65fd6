package dev.portcullis.tls;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Promise;
import java.util.Locale;
import javax.net.ssl.SSLHandshakeException;

/**
 * The TLS server side of an intercepted CONNECT tunnel, put in front of the client connection's HTTP handlers once
 * {@code 200 Connection established} is written: reads the ClientHello, gets the certificate for the tunnel's host
 * from the {@link InterceptAuthority} (issued off the event loop when it is not cached yet) and becomes the
 * SslHandler. The certificate is for the host the CONNECT named, the one the proxy's rules checked: a ClientHello
 * naming another server (SNI) is refused, so a tunnel opened to an allowed host cannot carry a denied one.
 */
public final class InterceptHandshake {
    /** Handshake (ClientHello included) must finish within this, or the connection is closed. */
    static final long HANDSHAKE_TIMEOUT_MILLIS = ServerTls.HANDSHAKE_TIMEOUT_MILLIS;

    private InterceptHandshake() {
    }

    /**
     * Adds the handshake handlers at the head of {@code pipeline}, ahead of everything already there; a failed
     * handshake closes the connection once {@code outcome} was told.
     */
    public static void install(ChannelPipeline pipeline, String host, InterceptAuthority authority,
                               HandshakeOutcome outcome) {
        SniHandler sni = new SniHandler(mapping(host, authority), HANDSHAKE_TIMEOUT_MILLIS);
        io.netty.channel.Channel ch = pipeline.channel();
        pipeline.addFirst("intercept-handshake", new HandshakeObserver(new HandshakeOutcome() {
            @Override
            public void ok() {
                TlsInfo.tlsStarted(ch, sni.hostname()); // scheme https, {tls.*} placeholders, from now on
                outcome.ok();
            }

            @Override
            public void failed(String reason, String detail) {
                outcome.failed(reason, detail);
            }
        }));
        pipeline.addFirst("intercept-tls", sni);
    }

    private static AsyncMapping<String, SslContext> mapping(String host, InterceptAuthority authority) {
        return (sni, promise) -> {
            if (sni != null && !sameName(sni, host)) {
                return promise.setFailure(new SSLHandshakeException("the ClientHello names server '" + sni
                        + "' but the tunnel was opened to '" + host + "'"));
            }
            authority.contextFor(host).whenComplete((ctx, err) -> complete(promise, ctx, err));
            return promise;
        };
    }

    private static void complete(Promise<SslContext> promise, SslContext ctx, Throwable err) {
        if (err != null) {
            promise.tryFailure(err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err);
        } else {
            promise.trySuccess(ctx);
        }
    }

    private static boolean sameName(String sni, String host) {
        String a = sni.endsWith(".") ? sni.substring(0, sni.length() - 1) : sni;
        return a.toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT));
    }
}
