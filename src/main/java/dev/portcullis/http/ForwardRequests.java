package dev.portcullis.http;

import dev.portcullis.auth.BasicCredentials;
import dev.portcullis.auth.Htpasswd;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.forward.ProxyAutoConfig;
import dev.portcullis.upstream.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request to a {@code mode: forward} listener, from its head to the origin: who may ask (clients), where it may
 * go (CONNECT ports, domain rules, the destination guard on the resolved address), then either the usual proxying
 * to a one-endpoint upstream for that address (absolute-form requests: pools, timeouts, cache and the anonymize
 * filter as on any route) or a CONNECT tunnel. The connection is made to exactly the address that was checked.
 * With a {@code parent}, the request goes through it instead ({@link ForwardViaParent}). An origin-form
 * {@code GET /proxy.pac} is answered with the PAC file.
 */
final class ForwardRequests {
    private static final Logger log = LoggerFactory.getLogger(ForwardRequests.class);

    private ForwardRequests() {
    }

    /** The head checks of a forward listener: the decoder's verdict, then what every request must satisfy. */
    static LocalReply head(HttpRequest req, ListenerLimits limits) {
        LocalReply problem = RequestChecks.decoderFailure(req.decoderResult(), limits.maxRequestLine(),
                limits.maxHeaderSize());
        return problem != null ? problem : RequestChecks.common(req);
    }

    static void start(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd) {
        TlsInterception.Tunnel tunnel = h.intercepted();
        if (tunnel != null) {
            if (fwd.interception() == null) {
                // a reload turned intercept_tls off: this connection's TLS is the proxy's own, with nowhere to go
                h.reply(ex, LocalReply.fatal(421, "TLS interception was turned off on this proxy; reconnect"));
            } else {
                TlsInterception.request(h, ex, fwd, tunnel);
            }
            return;
        }
        ex.route = fwd.route();
        if (!fwd.clientAllowed(ex.clientAddress())) {
            deny(h, ex, fwd, "client", "client " + h.address.ip() + " may not use this proxy (forward.clients)");
            return;
        }
        if (ProxyAutoConfig.isRequest(ex.request.method().name(), ex.request.uri())) {
            pac(h, ex); // before auth: browsers fetch the PAC file without proxy credentials
            return;
        }
        Htpasswd users = fwd.users();
        if (users == null) {
            route(h, ex, fwd);
            return;
        }
        String header = ex.request.headers().get(HttpHeaderNames.PROXY_AUTHORIZATION);
        BasicCredentials.Result creds = header == null ? new BasicCredentials.Invalid("no Proxy-Authorization")
                : BasicCredentials.fromHeader(header);
        if (!(creds instanceof BasicCredentials.Valid valid)) {
            authRequired(h, ex, fwd, header == null ? null : ((BasicCredentials.Invalid) creds).why());
            return;
        }
        h.holdRequestBody(); // while the password is checked off the event loop
        CompletableFuture<Htpasswd.Outcome> check;
        try {
            check = users.checkAsync(valid.user(), valid.password(), ForwardRuntime.authExecutor());
        } catch (RejectedExecutionException e) {
            check = CompletableFuture.failedFuture(e);
        }
        check.whenComplete((outcome, err) -> h.ctx.executor().execute(() -> {
            if (h.current() != ex) {
                return;
            }
            if (err != null) {
                h.releaseHeldRequestBody();
                h.reply(ex, LocalReply.error(503, "too many password checks waiting; try again"));
            } else if (outcome != Htpasswd.Outcome.OK) {
                h.releaseHeldRequestBody();
                authRequired(h, ex, fwd, "wrong user name or password for '" + valid.user() + "'");
            } else {
                route(h, ex, fwd);
            }
        }));
    }

    /**
     * The PAC file ({@link ProxyAutoConfig}), naming this proxy as the client reached it. A Host that is not a
     * valid {@code host[:port]} is refused rather than written into a script.
     */
    private static void pac(HttpProxyHandler h, Exchange ex) {
        ex.path = ex.request.uri();
        String authority = ProxyAutoConfig.proxyAuthority(ex.request.headers().get(HttpHeaderNames.HOST),
                (InetSocketAddress) h.ctx.channel().localAddress());
        if (authority == null) {
            h.listener().stats().requestRejected(400);
            h.reply(ex, LocalReply.error(400, "the Host header is not a valid host[:port]; the PAC file names the "
                    + "proxy by it"));
            return;
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.CONTENT_TYPE, ProxyAutoConfig.CONTENT_TYPE);
        headers.set(HttpHeaderNames.CACHE_CONTROL, "no-cache"); // it names the proxy as this request reached it
        h.reply(ex, LocalReply.of(200, ProxyAutoConfig.script(authority).getBytes(StandardCharsets.US_ASCII),
                headers));
    }

    /** 407 with the challenge (RFC 9110 section 11.7.1); the reason is logged, never sent. */
    private static void authRequired(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, String why) {
        if (why != null) {
            fwd.stats().denied("auth");
            log.info("listener {}: client {}: proxy authentication failed: {} (request id {})", h.listener().name(),
                    h.address.ip(), why, ex.requestId);
        }
        h.reply(ex, LocalReply.error(407, "this proxy needs credentials (Proxy-Authorization: Basic)")
                .header(HttpHeaderNames.PROXY_AUTHENTICATE, "Basic realm=\"" + fwd.config().realm()
                        + "\", charset=\"UTF-8\""));
    }

    /** Where the request goes: its target, then the rules on it, then DNS (maybe), then the origin. */
    private static void route(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd) {
        ForwardTarget.Parsed parsed = ForwardTarget.of(ex.request);
        if (parsed instanceof ForwardTarget.Refused r) {
            h.releaseHeldRequestBody();
            h.listener().stats().requestRejected(r.reply().status());
            h.reply(ex, r.reply());
            return;
        }
        ForwardTarget t = ((ForwardTarget.Ok) parsed).target();
        ex.host = t.host();
        if (t.connect()) {
            ex.connectTunnel = true;
            ex.path = "-";
            if (!fwd.connectPortAllowed(t.port())) {
                deny(h, ex, fwd, "port", "CONNECT to port " + t.port() + " is not allowed (forward.connect_ports: "
                        + fwd.config().connectPorts() + ")");
                return;
            }
        } else {
            int q = t.origin().indexOf('?');
            ex.path = q < 0 ? t.origin() : t.origin().substring(0, q);
            ex.query = q < 0 ? null : t.origin().substring(q + 1);
            ex.upstreamPath = ex.path;
            // RFC 9112 section 3.2.2: the target's authority replaces whatever Host the client sent
            ex.request.headers().set(HttpHeaderNames.HOST, t.hostHeader());
        }
        ForwardRuntime.Destination d = fwd.destinationOf(t.host());
        if (d instanceof ForwardRuntime.BadHost bad) {
            h.releaseHeldRequestBody();
            h.listener().stats().requestRejected(400);
            h.reply(ex, LocalReply.fatal(400, bad.message()));
            return;
        }
        if (d instanceof ForwardRuntime.Denied denied) {
            deny(h, ex, fwd, denied.rule(), denied.message());
            return;
        }
        if (fwd.parent() != null) {
            ForwardViaParent.route(h, ex, fwd, t, d);
            return;
        }
        if (d instanceof ForwardRuntime.Literal literal) {
            resolved(h, ex, fwd, t, List.of(literal.address()));
            return;
        }
        String name = ((ForwardRuntime.Name) d).name();
        h.holdRequestBody(); // the body waits (reads paused) until the destination is known
        Future<List<InetAddress>> lookup = ForwardRuntime.dns(h.pools.transport().datagramChannel())
                .resolveAll(name, h.ctx.channel().eventLoop());
        if (lookup.isDone()) {
            looked(h, ex, fwd, t, lookup);
        } else {
            lookup.addListener(f -> looked(h, ex, fwd, t, lookup));
        }
    }

    private static void looked(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, ForwardTarget t,
                               Future<List<InetAddress>> lookup) {
        if (h.current() != ex) {
            return; // the client went away meanwhile
        }
        if (!lookup.isSuccess()) {
            Throwable cause = lookup.cause();
            fwd.stats().denied("dns");
            String why = cause instanceof UnknownHostException ? "no such host" : String.valueOf(cause.getMessage());
            h.releaseHeldRequestBody();
            h.reply(ex, LocalReply.error(502, "cannot resolve '" + t.host() + "': " + why));
            return;
        }
        resolved(h, ex, fwd, t, lookup.getNow());
    }

    /** The addresses of the destination: the first one the guard allows is the one connected to. */
    private static void resolved(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, ForwardTarget t,
                                 List<InetAddress> addresses) {
        String refusal = null;
        InetAddress chosen = null;
        for (InetAddress a : addresses) {
            String rule = fwd.guard(a);
            if (rule == null) {
                chosen = a;
                break;
            }
            refusal = rule;
        }
        if (chosen == null) {
            h.releaseHeldRequestBody();
            deny(h, ex, fwd, "private", "destination " + t.host() + " resolves to a " + refusal + " address ("
                    + addresses.get(0).getHostAddress() + "), which this proxy does not reach "
                    + "(forward.deny_private_destinations)");
            return;
        }
        if (t.connect() && fwd.interception() != null) {
            if (h.http2) {
                // its bytes would be DATA frames of a shared connection, with no socket of its own to end TLS on;
                // relaying it untouched would let any HTTP/2 client walk around the inspection
                deny(h, ex, fwd, "http2", "CONNECT over HTTP/2 is not supported by this proxy, which inspects "
                        + "TLS (forward.intercept_tls); send CONNECT over HTTP/1.1");
                return;
            }
            TlsInterception.start(h, ex, fwd, chosen, t);
        } else if (t.connect()) {
            connect(h, ex, fwd, chosen, t);
        } else {
            h.forwardTo(ex, fwd.destination(chosen, t.port()));
        }
    }

    /** CONNECT: a plain TCP connection to the checked address, then the two connections relay bytes. */
    private static void connect(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, InetAddress address,
                                ForwardTarget t) {
        ChannelFuture f = new Bootstrap()
                .group(h.ctx.channel().eventLoop())
                .channel(h.pools.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) ForwardRuntime.CONNECT_TIMEOUT.toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new InetSocketAddress(address, t.port()));
        f.addListener(x -> {
            Channel upstream = f.channel();
            if (h.current() != ex || !h.ctx.channel().isActive()) {
                upstream.close();
                return;
            }
            if (!f.isSuccess()) {
                log.debug("listener {}: CONNECT {}:{} failed: {} (request id {})", h.listener().name(), t.host(),
                        t.port(), f.cause().toString(), ex.requestId);
                h.reply(ex, LocalReply.error(502, "cannot connect to " + t.host() + ":" + t.port() + ": "
                        + ConnectFailures.reason(f.cause())));
                return;
            }
            fwd.stats().tunnelOpened();
            h.onConnectEstablished(ex, upstream);
        });
    }

    static void deny(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, String rule, String message) {
        h.releaseHeldRequestBody();
        fwd.stats().denied(rule);
        log.info("listener {}: client {}: refused {} ({}): {} (request id {})", h.listener().name(), h.address.ip(),
                ex.request.uri(), rule, message, ex.requestId);
        h.reply(ex, LocalReply.error(403, message));
    }
}
