package dev.portcullis.http;

import dev.portcullis.config.ForwardConfig;
import dev.portcullis.config.UpstreamConnectionConfig;
import dev.portcullis.tls.ClientTls;
import dev.portcullis.tls.HandshakeOutcome;
import dev.portcullis.tls.InterceptAuthority;
import dev.portcullis.tls.InterceptHandshake;
import dev.portcullis.upstream.pool.ConnectionSettings;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code intercept_tls} of a forward listener: a CONNECT that passed every rule (clients, credentials, ports,
 * domains, the destination guard on the resolved address) is answered {@code 200 Connection established} and the
 * proxy ends the client's TLS itself, with a certificate for the tunnel's host issued by the configured CA
 * ({@link InterceptAuthority}). The requests inside are then proxied like plain forward requests (the anonymize
 * filter, the cache keyed by the {@code https} URL, the access log and metrics) to the origin, over a new TLS
 * connection verified against {@code origin_ca} (or the JDK's trust store) for the tunnel's host name, made to the
 * address that was checked at CONNECT time.
 *
 * <p>What is refused inside a tunnel: a request for another host than the tunnel's ({@code 421 Misdirected Request},
 * so a tunnel to an allowed host cannot carry requests for a denied one), a CONNECT (400), and a ClientHello naming
 * another server (the handshake fails). The domain rules and {@code clients} are checked again on each request, so a
 * reload that denies a host takes effect inside tunnels opened before it.
 */
public final class TlsInterception {
    private static final Logger log = LoggerFactory.getLogger(TlsInterception.class);

    private final InterceptAuthority authority;
    private final ConnectionSettings originTls;

    /** Where an intercepted tunnel's requests go: the CONNECT's host (normalised) and port, at the checked address. */
    record Tunnel(String host, int port, InetAddress address) {
        /** The Host header for the origin: the host, with the port when it is not 443. */
        String hostHeader() {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return port == 443 ? h : h + ":" + port;
        }
    }

    private TlsInterception(InterceptAuthority authority, ConnectionSettings originTls) {
        this.authority = authority;
        this.originTls = originTls;
    }

    /**
     * Loads the CA and builds the origins' TLS client context.
     *
     * @throws InterceptAuthority.InvalidCaException naming {@code ca_cert} or {@code ca_key}
     * @throws ClientTls.TlsConfigException for an {@code origin_ca} that cannot be used
     */
    public static TlsInterception build(String listener, ForwardConfig.InterceptTls cfg)
            throws InterceptAuthority.InvalidCaException, ClientTls.TlsConfigException {
        InterceptAuthority authority = authority(listener, cfg);
        ConnectionSettings origins = ConnectionSettings.compile(new UpstreamConnectionConfig(
                UpstreamConnectionConfig.Protocol.HTTP1, new UpstreamConnectionConfig.Tls(null, true, cfg.originCa(),
                null, null)), (int) ForwardRuntime.CONNECT_TIMEOUT.toMillis());
        log.warn("listener {}: TLS INTERCEPTION IS ON (forward.intercept_tls): HTTPS through this proxy is decrypted "
                + "here, with certificates issued by CA '{}' (SHA-256 {}). Only clients that were told to trust this "
                + "CA can use HTTPS through it; the requests and responses inside, passwords and cookies included, "
                + "are visible to this process. Origins are verified against {}", listener, authority.subject(),
                authority.fingerprint(), cfg.originCa() == null ? "the JDK's default trust store" : cfg.originCa());
        return new TlsInterception(authority, origins);
    }

    /** The files an authority was loaded from, as they were: equal stamps mean the same CA and key. */
    private record Loaded(List<Object> stamps, InterceptAuthority authority) {}

    /** The last authority of each listener, kept across reloads while its files do not change. */
    private static final java.util.concurrent.ConcurrentMap<String, Loaded> LOADED =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The listener's authority: the one of the previous load while {@code ca_cert} and {@code ca_key} are the same
     * files, unchanged (so a reload does not issue every host's certificate again), else loaded now.
     */
    private static InterceptAuthority authority(String listener, ForwardConfig.InterceptTls cfg)
            throws InterceptAuthority.InvalidCaException {
        List<Object> stamps = List.of(stamp(cfg.caCert()), stamp(cfg.caKey()));
        Loaded last = LOADED.get(listener);
        if (last != null && last.stamps().equals(stamps)) {
            return last.authority();
        }
        InterceptAuthority a = InterceptAuthority.load(cfg.caCert(), cfg.caKey());
        LOADED.put(listener, new Loaded(stamps, a));
        return a;
    }

    private static List<Object> stamp(java.nio.file.Path p) {
        try {
            return List.of(p, java.nio.file.Files.size(p), java.nio.file.Files.getLastModifiedTime(p));
        } catch (java.io.IOException e) {
            return List.of(p, e.toString()); // loaded (and reported) as it is
        }
    }

    ConnectionSettings originTls() {
        return originTls;
    }

    /** A CONNECT that passed the rules, to {@code address}: answered here, and its TLS ends here too. */
    static void start(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, InetAddress address, ForwardTarget t) {
        ForwardRuntime.Destination d = fwd.destinationOf(t.host());
        String host = d instanceof ForwardRuntime.Name n ? n.name() : NetUtil.toAddressString(address);
        Tunnel tunnel = new Tunnel(host, t.port(), address);
        String listener = h.listener().name();
        String client = h.address.ip();
        InterceptAuthority authority = fwd.interception().authority;
        h.interceptConnect(ex, tunnel, pipeline -> InterceptHandshake.install(pipeline, host, authority,
                new HandshakeOutcome() {
                    @Override
                    public void ok() {
                        fwd.stats().intercepted(true);
                    }

                    @Override
                    public void failed(String reason, String detail) {
                        fwd.stats().intercepted(false);
                        log.info("listener {}: client {}: TLS interception of {}:{} failed: {} (clients must trust "
                                + "the intercept_tls CA '{}')", listener, client, host, t.port(), explain(reason,
                                detail), authority.subject());
                    }
                }));
    }

    /** A handshake failure in words for the operator. */
    private static String explain(String reason, String detail) {
        return switch (reason) {
            case "not_tls" -> "the client did not start TLS in the tunnel (intercept_tls carries only TLS)";
            case "timeout" -> "the handshake did not finish in time";
            case "closed" -> "the client closed the connection during the handshake";
            default -> detail;
        };
    }

    /** A request read inside an intercepted tunnel: to the tunnel's origin, or refused. */
    static void request(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, Tunnel tunnel) {
        ex.route = fwd.route();
        ex.host = tunnel.host();
        if (!fwd.clientAllowed(ex.clientAddress())) {
            ForwardRequests.deny(h, ex, fwd, "client", "client " + h.address.ip()
                    + " may not use this proxy (forward.clients)");
            return;
        }
        if (HttpMethod.CONNECT.equals(ex.request.method())) {
            h.listener().stats().requestRejected(400);
            h.reply(ex, LocalReply.fatal(400, "a CONNECT inside an intercepted TLS tunnel is not supported"));
            return;
        }
        String uri = ex.request.uri();
        String origin;
        if (uri.startsWith("/")) {
            origin = uri;
        } else if (uri.regionMatches(true, 0, "https://", 0, 8)) {
            int end = 8;
            while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
                end++;
            }
            if (!names(uri.substring(8, end), tunnel)) {
                misdirected(h, ex, fwd, tunnel, uri.substring(8, end));
                return;
            }
            origin = end == uri.length() ? "/" : uri.charAt(end) == '/' ? uri.substring(end) : "/" + uri.substring(end);
        } else {
            h.listener().stats().requestRejected(400);
            h.reply(ex, LocalReply.fatal(400, "inside a TLS tunnel a request target is a path such as /index.html"));
            return;
        }
        if (origin.indexOf('#') >= 0) {
            h.listener().stats().requestRejected(400);
            h.reply(ex, LocalReply.fatal(400, "request target must not contain a fragment"));
            return;
        }
        String hostHeader = ex.request.headers().get(HttpHeaderNames.HOST);
        if (hostHeader != null && !names(hostHeader, tunnel)) {
            misdirected(h, ex, fwd, tunnel, hostHeader);
            return;
        }
        if (fwd.destinationOf(tunnel.host()) instanceof ForwardRuntime.Denied denied) {
            ForwardRequests.deny(h, ex, fwd, denied.rule(), denied.message());
            return;
        }
        String guard = fwd.guard(tunnel.address()); // a reload may have changed the guard since the CONNECT
        if (guard != null) {
            ForwardRequests.deny(h, ex, fwd, "private", "destination " + tunnel.host() + " is a " + guard
                    + " address, which this proxy does not reach (forward.deny_private_destinations)");
            return;
        }
        int q = origin.indexOf('?');
        ex.path = q < 0 ? origin : origin.substring(0, q);
        ex.query = q < 0 ? null : origin.substring(q + 1);
        ex.upstreamPath = ex.path;
        ex.request.headers().set(HttpHeaderNames.HOST, tunnel.hostHeader());
        h.forwardTo(ex, fwd.destination(tunnel.address(), tunnel.port(), tunnel.host()));
    }

    /** 421 (RFC 9110 section 15.5.20): this connection is not the one for that host; the client may open another. */
    private static void misdirected(HttpProxyHandler h, Exchange ex, ForwardRuntime fwd, Tunnel tunnel, String named) {
        fwd.stats().denied("host");
        log.info("listener {}: client {}: request for '{}' inside a TLS tunnel to {} refused (421; request id {})",
                h.listener().name(), h.address.ip(), named, tunnel.host(), ex.requestId);
        h.reply(ex, LocalReply.error(421, "this TLS tunnel was opened to " + tunnel.host()
                + "; a request for another host needs a CONNECT of its own"));
    }

    /**
     * Whether an authority ({@code host}, {@code host:port}, {@code [v6]:port}) names the tunnel's host and port: a
     * port, when given, must be the tunnel's (none is taken as the tunnel's, so {@code Host: example.com} fits a
     * tunnel to port 8443 too).
     */
    static boolean names(String authority, Tunnel tunnel) {
        String a = authority.trim();
        String port = null;
        if (a.startsWith("[")) {
            int close = a.indexOf(']');
            if (close > 0 && close + 1 < a.length() && a.charAt(close + 1) == ':') {
                port = a.substring(close + 2);
            }
            a = close < 0 ? a : a.substring(1, close);
        } else {
            int colon = a.indexOf(':');
            if (colon >= 0 && colon == a.lastIndexOf(':')) {
                port = a.substring(colon + 1);
                a = a.substring(0, colon);
            }
        }
        if (port != null && !port.isEmpty() && !port.equals(Integer.toString(tunnel.port()))) {
            return false;
        }
        return sameHost(a, tunnel.host());
    }

    /** Whether {@code a} (no port, no brackets) is {@code host}: names case-blind, addresses by value. */
    private static boolean sameHost(String a, String host) {
        if (a.endsWith(".")) {
            a = a.substring(0, a.length() - 1);
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        if (ip != null) {
            return java.util.Arrays.equals(ip, NetUtil.createByteArrayFromIpAddressString(a));
        }
        return a.toLowerCase(Locale.ROOT).equals(host);
    }
}
