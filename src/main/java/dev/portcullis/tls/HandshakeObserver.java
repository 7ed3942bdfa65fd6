package dev.portcullis.tls;

import dev.portcullis.observe.ListenerStats;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right after the TLS handler until the handshake ends: reports it (ok, or failed by reason) and keeps failed
 * handshakes out of the HTTP handlers (the connection closes). Removes itself once the handshake succeeded. A
 * listener's observer counts handshakes in its stats and logs failures at debug only, since scanners and old
 * clients cause them all the time; an intercepted tunnel's reports to {@code InterceptHandshake}'s caller.
 */
final class HandshakeObserver extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HandshakeObserver.class);

    private final HandshakeOutcome outcome;
    private boolean done;

    HandshakeObserver(HandshakeOutcome outcome) {
        this.outcome = outcome;
    }

    /** The observer of an https listener's connections: handshakes counted in its stats, failures logged at debug. */
    static HandshakeObserver forListener(String listener, ListenerStats stats) {
        return new HandshakeObserver(new HandshakeOutcome() {
            @Override
            public void ok() {
                stats.tlsHandshakeOk();
            }

            @Override
            public void failed(String reason, String detail) {
                stats.tlsHandshakeFailed(reason);
                log.debug("listener {}: TLS handshake failed ({}): {}", listener, reason, detail);
            }
        });
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                done = true;
                outcome.ok();
                ctx.pipeline().remove(this);
                ctx.fireUserEventTriggered(evt);
            } else {
                failed(ctx, e.cause());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Before the handshake succeeded, every error is a handshake failure (the event may come first, or never
        // when the ClientHello itself was unreadable).
        failed(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            failed(ctx, new ClosedChannelException());
        }
        ctx.fireChannelInactive();
    }

    /** Counts a failure once (the detector of plain HTTP calls it too) and closes the connection. */
    void failed(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            done = true;
            outcome.failed(reason(cause), ctx.channel().remoteAddress() + ": "
                    + (cause == null ? "-" : rootMessage(cause)));
        }
        ctx.close();
    }

    /** Counted by {@link PlainHttpDetector}: an HTTP request on the TLS port. */
    void plainHttp() {
        if (!done) {
            done = true;
            outcome.failed("plain_http", "an HTTP request on the TLS port");
        }
    }

    static String reason(Throwable cause) {
        Throwable t = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (t instanceof SslHandshakeTimeoutException) {
            return "timeout";
        }
        if (t instanceof NotSslRecordException) {
            return "not_tls";
        }
        if (t instanceof ClosedChannelException || t instanceof java.io.IOException && !(t instanceof SSLException)) {
            return "closed";
        }
        String m = rootMessage(t).toLowerCase(Locale.ROOT);
        if (m.contains("closed")) {
            return "closed";
        }
        if (m.contains("certificate") || m.contains("cert_") || m.contains("pkix") || m.contains("unknown_ca")
                || m.contains("peer_did_not_return") || m.contains("no_certificate")) {
            return "certificate";
        }
        if (m.contains("protocol") || m.contains("version") || m.contains("cipher") || m.contains("alpn")
                || m.contains("no_application_protocol") || m.contains("handshake_failure")) {
            return "protocol";
        }
        return "other";
    }

    private static String rootMessage(Throwable cause) {
        Throwable t = cause;
        StringBuilder sb = new StringBuilder();
        while (t != null) {
            if (t.getMessage() != null) {
                sb.append(sb.length() == 0 ? "" : " / ").append(t.getMessage());
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return sb.length() == 0 ? cause.getClass().getSimpleName() : sb.toString();
    }
}
