package dev.portcullis.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.config.ForwardConfig;
import dev.portcullis.config.HostPort;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.forward.ForwardDns;
import dev.portcullis.forward.HostSyntax;
import dev.portcullis.observe.EndpointStats;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * A forward listener's {@code parent}: the proxy every request goes through (Squid's {@code cache_peer ... parent}
 * with {@code never_direct}). Its name is resolved with the forward DNS when a request needs it (answers kept for
 * their TTL), so a parent that moves is followed without a reload; each of its addresses is one one-endpoint
 * upstream, so absolute-form requests to it share pooled keep-alive connections as requests to a backend do.
 */
final class ForwardParent {
    /** All the listener's requests go to the parent: as many idle connections as towards a backend. */
    static final UpstreamConfig.Keepalive KEEPALIVE = UpstreamConfig.Keepalive.DEFAULTS;

    private final String listener;
    private final HostPort address;
    /** The parent's address when written as one; null for a name (resolved per request, through the cache). */
    private final InetAddress literal;
    /** The name to resolve when {@link #literal} is null. */
    private final String name;
    /** {@code Basic ...} for {@code Proxy-Authorization} to the parent; null when none is configured. */
    private final String authorization;
    private final EndpointStats stats;
    private final Cache<String, Upstream> upstreams = Caffeine.newBuilder().maximumSize(64)
            .expireAfterAccess(Duration.ofMinutes(10)).build();

    ForwardParent(String listener, ForwardConfig.Parent config, EndpointStats stats) {
        this.listener = listener;
        this.address = config.address();
        HostSyntax.Host host = HostSyntax.parse(address.host());
        this.literal = host instanceof HostSyntax.IpLiteral ip ? ip.address() : null;
        this.name = host instanceof HostSyntax.DomainName d ? d.name() : address.host();
        this.authorization = config.user() == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                (config.user() + ":" + config.password()).getBytes(StandardCharsets.UTF_8));
        this.stats = stats;
    }

    /** {@code parent proxy.corp.example:3128}: how replies and logs name it (the operator wrote it). */
    String label() {
        return "parent proxy " + address;
    }

    int port() {
        return address.port();
    }

    /** The value of {@code Proxy-Authorization} towards the parent, or null. */
    String authorization() {
        return authorization;
    }

    /** The parent's address now: at once for an address, else the forward DNS's answer (its first address). */
    Future<List<InetAddress>> resolve(ForwardDns dns, EventLoop loop) {
        if (literal != null) {
            return loop.newSucceededFuture(List.of(literal));
        }
        return dns.resolveAll(name, loop);
    }

    /** The one-endpoint upstream of one of the parent's addresses (the same object, and pool, while in use). */
    Upstream upstream(InetAddress resolved) {
        return upstreams.get(resolved.getHostAddress(), k -> {
            UpstreamConfig cfg = new UpstreamConfig("forward:" + listener + ":parent",
                    List.of(new UpstreamConfig.EndpointConfig(address, 1, false)), UpstreamConfig.Balance.ROUND_ROBIN,
                    null, UpstreamConfig.HashMethod.MAGLEV, null, null, null, null, Duration.ZERO,
                    UpstreamConfig.CircuitBreaker.UNLIMITED, UpstreamConfig.DEFAULT_PANIC_THRESHOLD,
                    ForwardRuntime.CONNECT_TIMEOUT, KEEPALIVE);
            Endpoint e = new Endpoint(cfg.name(), address, new InetSocketAddress(resolved, address.port()), 1, false,
                    stats, new EndpointState());
            return new Upstream(cfg, List.of(e));
        });
    }
}
