package dev.portcullis.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.cache.policy.CacheKeys;
import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.config.ForwardConfig;
import dev.portcullis.config.HostPort;
import dev.portcullis.config.RetryConfig;
import dev.portcullis.config.RouteCacheConfig;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.forward.ForwardDns;
import dev.portcullis.http.filter.FilterChain;
import dev.portcullis.http.filters.forward.AnonymizeFilter;
import dev.portcullis.http.router.Cidr;
import dev.portcullis.observe.EndpointStats;
import dev.portcullis.observe.ForwardStats;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import dev.portcullis.upstream.Upstream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * A {@code mode: forward} listener as one config snapshot sees it: its rules compiled, one route-like settings
 * object for every request ({@link #route}: the anonymize filter, the cache, the metrics), and the destinations
 * its requests went to, each a one-endpoint upstream so the usual pools, timeouts and keep-alive apply. Shared by
 * all event loops. A {@code protocol: socks5} listener has one too, for the same rules (clients, users, domain
 * lists, the guard), DNS and counters; it relays bytes, so it uses neither the route nor the destinations.
 */
public final class ForwardRuntime {
    /** Destinations kept (with their pooled connections' pool key) before the least recently used is dropped. */
    static final int MAX_DESTINATIONS = 10_000;
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Origins are many and each sees few requests: fewer idle connections per origin than towards a backend. */
    static final UpstreamConfig.Keepalive KEEPALIVE = new UpstreamConfig.Keepalive(8, Duration.ofSeconds(30));

    private static volatile ForwardDns dns;
    /**
     * Where password hashes are checked (bcrypt takes tens of milliseconds by design: never on an event loop). A
     * few threads and a bounded queue: past it a client gets 503 rather than the queue growing without bound.
     */
    private static final java.util.concurrent.ExecutorService AUTH = new java.util.concurrent.ThreadPoolExecutor(
            2, 2, 60, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(1024),
            new io.netty.util.concurrent.DefaultThreadFactory("portcullis-auth", true));

    private final String listener;
    private final ForwardConfig config;
    private final Cidr[] clients;
    private final ForwardRules rules;
    /** The users file when {@code auth.basic} is set; null for no authentication. */
    private final dev.portcullis.auth.Htpasswd users;
    private final CompiledRoute route;
    private final ForwardStats stats;
    private final EndpointStats endpointStats;
    /** The parent proxy every request goes through; null to go straight to origins. */
    private final ForwardParent parent;
    /** {@code intercept_tls}: the CA and the origins' TLS; null when tunnels are relayed untouched. */
    private final TlsInterception interception;
    private final Cache<String, Upstream> destinations = Caffeine.newBuilder().maximumSize(MAX_DESTINATIONS).executor(Runnable::run)
            .expireAfterAccess(Duration.ofMinutes(10)).build();

    /** @param interception built from {@code config.interceptTls()} (see SnapshotCompiler); null when it is off */
    public ForwardRuntime(String listener, ForwardConfig config, CacheZone cacheZone, ProxyMetrics metrics,
                          TlsInterception interception) {
        this.listener = listener;
        this.interception = interception;
        this.config = config;
        this.clients = config.clients().stream().map(Cidr::parse).toArray(Cidr[]::new);
        this.rules = ForwardRules.of(config);
        this.users = config.htpasswd() == null ? null : dev.portcullis.auth.Htpasswd.load(config.htpasswd());
        this.endpointStats = metrics.endpoint("forward:" + listener, "origins");
        this.stats = metrics.forward(listener);
        this.parent = config.parent() == null ? null : new ForwardParent(listener, config.parent(),
                metrics.endpoint("forward:" + listener, "parent"));
        RouteCache cache = cacheZone == null ? null
                : RouteCache.of(cacheZone, new CacheKeys(RouteCacheConfig.Key.DEFAULT), 0);
        this.route = new CompiledRoute("forward", new RouteTarget.Forward(this),
                new FilterChain(List.of(new AnonymizeFilter(config.anonymize(),
                        parent == null ? null : parent.authorization()))),
                metrics.route(listener, "forward", parent == null ? "origins" : "parent"), 0, RetryConfig.DEFAULT,
                null, cache);
    }

    public String listener() {
        return listener;
    }

    public ForwardConfig config() {
        return config;
    }

    CompiledRoute route() {
        return route;
    }

    public ForwardStats stats() {
        return stats;
    }

    /** The parent proxy, or null when requests go straight to origins. */
    ForwardParent parent() {
        return parent;
    }

    /** TLS interception of CONNECT tunnels, or null when tunnels are relayed untouched. */
    TlsInterception interception() {
        return interception;
    }

    /** The users file, or null when the proxy asks for no credentials. */
    public dev.portcullis.auth.Htpasswd users() {
        return users;
    }

    public static java.util.concurrent.Executor authExecutor() {
        return AUTH;
    }

    /** Where a target host leads before any lookup: an address, a name to resolve, or a refusal. */
    public sealed interface Destination {}

    public record Literal(InetAddress address) implements Destination {}

    public record Name(String name) implements Destination {}

    /** Neither a name nor an address (400): the reason never repeats the input. */
    public record BadHost(String message) implements Destination {}

    /** @param rule a fixed token for metrics; {@code message} says which rule, for the 403 body and the log */
    public record Denied(String rule, String message) implements Destination {}

    /** The target host as written: an IP literal (odd spellings included) or a name the domain rules allow. */
    public Destination destinationOf(String host) {
        return rules.destinationOf(host);
    }

    /** A destination given as an address (SOCKS5 IPv4 and IPv6 requests): the domain rules' entries for it. */
    public Destination destinationOf(InetAddress address) {
        return rules.destinationOf(address);
    }

    /** Null when the proxy may connect to {@code address}; else the guard's rule that refuses it. */
    public String guard(InetAddress address) {
        return rules.guard(address);
    }

    public boolean clientAllowed(byte[] address) {
        for (Cidr c : clients) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    boolean connectPortAllowed(int port) {
        return config.connectPorts().contains(port);
    }

    /**
     * The one-endpoint upstream for an origin's address: the same object (and so the same pooled connections) for
     * every request to that address and port while it is in use.
     */
    Upstream destination(InetAddress address, int port) {
        return destination(address, port, null);
    }

    /**
     * As {@link #destination(InetAddress, int)}, over TLS to {@code tlsHost} when it is not null (an intercepted
     * tunnel's origin): the connection still goes to the checked address, and the origin's certificate must name
     * {@code tlsHost}, which is also the SNI sent.
     */
    Upstream destination(InetAddress address, int port, String tlsHost) {
        String ip = address.getHostAddress();
        String key = tlsHost == null ? ip + "|" + port : ip + "|" + port + "|tls|" + tlsHost;
        return destinations.get(key, k -> {
            String literal = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
            HostPort hp = new HostPort(tlsHost == null ? literal
                    : tlsHost.indexOf(':') >= 0 ? "[" + tlsHost + "]" : tlsHost, port);
            UpstreamConfig cfg = new UpstreamConfig("forward:" + listener,
                    List.of(new UpstreamConfig.EndpointConfig(hp, 1, false)), UpstreamConfig.Balance.ROUND_ROBIN,
                    null, UpstreamConfig.HashMethod.MAGLEV, null, null, null, null, Duration.ZERO,
                    UpstreamConfig.CircuitBreaker.UNLIMITED, UpstreamConfig.DEFAULT_PANIC_THRESHOLD, CONNECT_TIMEOUT,
                    KEEPALIVE);
            Endpoint e = new Endpoint(cfg.name(), hp, new InetSocketAddress(address, port), 1, false, endpointStats,
                    new EndpointState());
            return tlsHost == null ? new Upstream(cfg, List.of(e)) : new Upstream(cfg, List.of(e),
                    interception.originTls());
        });
    }

    /** The process's forward DNS (one set of resolvers and one cache for every forward listener). */
    public static ForwardDns dns(Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannel) {
        ForwardDns d = dns;
        if (d == null) {
            synchronized (ForwardRuntime.class) {
                d = dns;
                if (d == null) {
                    d = new ForwardDns(datagramChannel);
                    dns = d;
                }
            }
        }
        return d;
    }
}
