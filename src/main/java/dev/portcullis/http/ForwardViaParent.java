package dev.portcullis.http;

import dev.portcullis.forward.HostSyntax;
import dev.portcullis.forward.ParentTunnel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A forward listener's request once its local rules passed, when a {@code parent} is configured: it goes to the
 * parent, never straight to the origin. An absolute-form request stays absolute-form, over the parent's pooled
 * keep-alive connections; a CONNECT becomes a CONNECT to the parent, whose {@code 200} opens the tunnel and whose
 * refusal is passed on to the client.
 *
 * <p>The parent is sent the host as this proxy read it (lower case, punycode, an address in its usual form), so
 * both proxies judge the same destination whatever spelling the client used. Names are not resolved here (the
 * parent resolves them), so the private-destination guard can only judge an address the client wrote.
 */
final class ForwardViaParent {
    private static final Logger log = LoggerFactory.getLogger(ForwardViaParent.class);

    private ForwardViaParent() {
    }

    static void route(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, ForwardTarget t,
                      ForwardRuntime.Destination d) {
        ForwardParent parent = fwd.parent();
        String host;
        if (d instanceof ForwardRuntime.Literal literal) {
            String rule = fwd.guard(literal.address());
            if (rule != null) {
                ForwardRequests.deny(h, ex, fwd, "private", "destination " + t.host() + " is a " + rule
                        + " address, which this proxy does not reach (forward.deny_private_destinations)");
                return;
            }
            host = HostSyntax.canonicalText(literal.address());
        } else {
            host = ((ForwardRuntime.Name) d).name();
        }
        ex.viaParent = parent.label();
        if (!t.connect()) {
            h.holdRequestBody(); // while the parent's name is looked up (at once for an address)
            String authority = t.port() == 80 ? host : host + ":" + t.port();
            ex.absolutePrefix = "http://" + authority;
            ex.request.headers().set(HttpHeaderNames.HOST, authority);
        }
        Future<List<InetAddress>> lookup = parent.resolve(ForwardRuntime.dns(h.pools.transport().datagramChannel()),
                h.ctx.channel().eventLoop());
        if (lookup.isDone()) {
            resolved(h, ex, fwd, t, host, lookup);
        } else {
            lookup.addListener(f -> resolved(h, ex, fwd, t, host, lookup));
        }
    }

    private static void resolved(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, ForwardTarget t, String host,
                                 Future<List<InetAddress>> lookup) {
        if (h.current() != ex) {
            return; // the client went away meanwhile
        }
        ForwardParent parent = fwd.parent();
        if (!lookup.isSuccess()) {
            Throwable cause = lookup.cause();
            String why = cause instanceof UnknownHostException ? "no such host" : String.valueOf(cause.getMessage());
            log.warn("listener {}: {}: cannot resolve its name: {}; requests through it fail with 502 until it "
                    + "resolves (request id {})", h.listener().name(), parent.label(), why, ex.requestId);
            h.releaseHeldRequestBody();
            h.reply(ex, LocalReply.error(502, parent.label() + ": cannot resolve its name: " + why));
            return;
        }
        InetSocketAddress address = new InetSocketAddress(lookup.getNow().get(0), parent.port());
        if (address.equals(h.ctx.channel().localAddress())) {
            // The parent is this listener: every request would come back to it until connections ran out.
            log.warn("listener {}: {} is this listener itself; fix forward.parent (request id {})",
                    h.listener().name(), parent.label(), ex.requestId);
            h.releaseHeldRequestBody();
            h.reply(ex, LocalReply.error(502, parent.label() + " is this proxy itself (a forwarding loop)"));
            return;
        }
        if (t.connect()) {
            tunnel(h, ex, fwd, address, host + ":" + t.port());
        } else {
            h.forwardTo(ex, parent.upstream(address.getAddress()));
        }
    }

    /** CONNECT through the parent; the client's connection waits (its decoder holds what follows the CONNECT). */
    private static void tunnel(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, InetSocketAddress address,
                               String authority) {
        ForwardParent parent = fwd.parent();
        Channel client = h.ctx.channel();
        ParentTunnel[] tunnel = new ParentTunnel[1];
        ChannelFutureListener onClientClose = f -> tunnel[0].cancel(); // the client left: so does the parent's
        tunnel[0] = ParentTunnel.to(authority, parent.authorization(), h.listener().runtime().limits().idleTimeout(),
                outcome -> {
                    client.closeFuture().removeListener(onClientClose);
                    answered(h, ex, fwd, authority, outcome);
                });
        client.closeFuture().addListener(onClientClose);
        tunnel[0].connect(client.eventLoop(), h.pools.transport().socketChannel(), address,
                ForwardRuntime.CONNECT_TIMEOUT);
    }

    private static void answered(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, String authority,
                                 ParentTunnel.Outcome outcome) {
        ForwardParent parent = fwd.parent();
        boolean current = h.current() == ex && h.ctx.channel().isActive();
        if (outcome instanceof ParentTunnel.Established established) {
            if (!current) {
                established.channel().close();
                return;
            }
            fwd.stats().tunnelOpened();
            h.onConnectEstablished(ex, established.channel());
            return;
        }
        if (!current) {
            return;
        }
        if (outcome instanceof ParentTunnel.Refused refused) {
            log.info("listener {}: client {}: {} answered {} to CONNECT {} (request id {})", h.listener().name(),
                    h.address.ip(), parent.label(), refused.status(), authority, ex.requestId);
            HttpHeaders headers = refused.headers();
            // Its framing is redone for the client; Proxy-Authenticate and the like were meant for this proxy.
            Headers.removeHopByHop(headers);
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.reply(ex, LocalReply.of(refused.status(), refused.body(), headers));
        } else if (outcome instanceof ParentTunnel.Unreachable unreachable) {
            log.warn("listener {}: {}: connect failed: {}; CONNECT {} answered 502 (request id {})",
                    h.listener().name(), parent.label(), ConnectFailures.detail(unreachable.cause()), authority,
                    ex.requestId);
            boolean timedOut = unreachable.cause() instanceof io.netty.channel.ConnectTimeoutException;
            h.reply(ex, LocalReply.error(timedOut ? 504 : 502, parent.label() + ": connect failed: "
                    + ConnectFailures.reason(unreachable.cause())));
        } else if (outcome instanceof ParentTunnel.Failed failed) {
            log.warn("listener {}: {}: {}; CONNECT {} answered {} (request id {})", h.listener().name(),
                    parent.label(), failed.why(), authority, failed.timedOut() ? 504 : 502, ex.requestId);
            h.reply(ex, LocalReply.error(failed.timedOut() ? 504 : 502, parent.label() + ": " + failed.why()));
        }
    }
}
