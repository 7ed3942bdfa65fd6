package dev.portcullis.runtime;

import dev.portcullis.cache.policy.CacheKeys;
import dev.portcullis.cache.shared.RedisTier;
import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.cache.store.disk.DiskTier;
import dev.portcullis.cache.store.LowerTier;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.config.ConfigError;
import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.config.RouteAction;
import dev.portcullis.config.RouteConfig;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.http.CompiledRoute;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.config.ForwardConfig;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.forward.DomainRules;
import dev.portcullis.http.ForwardRuntime;
import dev.portcullis.http.gateway.ConsumerDirectory;
import dev.portcullis.http.gateway.RouteGate;
import dev.portcullis.http.RouteCache;
import dev.portcullis.http.RouteTarget;
import dev.portcullis.http.filter.FilterChain;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filters.compression.CompressionFilter;
import dev.portcullis.http.filters.headers.RequestHeadersFilter;
import dev.portcullis.http.filters.headers.ResponseHeadersFilter;
import dev.portcullis.http.filters.rewrite.PathRewriteFilter;
import dev.portcullis.http.router.RouteTable;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.observe.RouteStats;
import dev.portcullis.redis.RedisClients;
import dev.portcullis.template.Template;
import dev.portcullis.config.UpstreamConnectionConfig;
import dev.portcullis.tls.ClientTls;
import dev.portcullis.tls.ServerTls;
import dev.portcullis.upstream.pool.ConnectionSettings;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.EndpointFactory;
import dev.portcullis.upstream.discovery.DnsDiscovery;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a validated config into a {@link Snapshot}. Upstreams whose config did not change are taken over from
 * the previous snapshot as they are, so their endpoints (the keys of the connection pools) and counters
 * survive a reload. Endpoint host names are resolved here, off the event loops.
 */
public final class SnapshotCompiler {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SnapshotCompiler.class);
    private SnapshotCompiler() {
    }

    /** Compiles without connecting anywhere (validation): no Redis client, so no shared tiers. */
    public static Snapshot compile(PortcullisConfig cfg, Snapshot previous, ProxyMetrics metrics)
            throws ConfigException {
        return compile(cfg, previous, metrics, false);
    }

    /**
     * What {@code portcullis validate} does: compiles the config as a serving process would and drops the result,
     * without opening the zones' disk directories (a running process holds them; the config reader has checked
     * that they can be used) nor connecting to Redis.
     */
    public static void check(PortcullisConfig cfg, ProxyMetrics metrics) throws ConfigException {
        compile(cfg, null, metrics, false).closeZonesNotIn(null);
    }

    /**
     * @param online whether this snapshot will serve: then the zones' disk directories are opened, the config's
     *               {@code redis} gets its client (the previous snapshot's while unchanged) and zones their shared
     *               tiers
     */
    public static Snapshot compile(PortcullisConfig cfg, Snapshot previous, ProxyMetrics metrics, boolean online)
            throws ConfigException {
        String file = cfg.source() == null ? "<config>" : cfg.source().toString();
        List<ConfigError> errors = new ArrayList<>();
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        for (UpstreamConfig u : cfg.upstreams().values()) {
            Upstream old = previous == null ? null : previous.upstreams().get(u.name());
            if (old != null && old.config().equals(u) && old.connection().filesUnchanged()) {
                upstreams.put(u.name(), old);
            } else {
                upstreams.put(u.name(), compileUpstream(u, old, metrics, file, errors));
            }
        }
        RedisClients redis = online ? redis(cfg, previous, metrics) : null;
        Map<String, CacheZone> zones = zones(cfg, previous, metrics, online, redis, file, errors);
        Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
        ConsumerDirectory consumers = new ConsumerDirectory(cfg.consumers());
        for (ListenerConfig l : cfg.listeners()) {
            List<RouteTable.Entry<CompiledRoute>> entries = new ArrayList<>();
            for (RouteConfig r : l.routes()) {
                entries.add(new RouteTable.Entry<>(compileRoute(l.name(), r, upstreams, zones, metrics, consumers,
                        errors, file, redis), r.match()));
            }
            ForwardRuntime forward = l.forward() == null ? null : forward(l, zones, metrics, file, errors);
            // the distinct caches (by zone and key shape) an unsafe request on this listener invalidates in
            Map<List<Object>, RouteCache> caches = new LinkedHashMap<>();
            for (RouteTable.Entry<CompiledRoute> e : entries) {
                RouteCache rc = e.route().cache();
                if (rc != null) {
                    caches.putIfAbsent(List.of(rc.zone(), rc.keys().config()), rc);
                }
            }
            listeners.put(l.name(), new ListenerRuntime(l, RouteTable.build(entries), serverTls(l, file, errors),
                    forward, List.copyOf(caches.values())));
        }
        Snapshot next = new Snapshot(cfg, Map.copyOf(listeners), upstreams, Map.copyOf(zones), redis);
        if (!errors.isEmpty()) {
            next.closeZonesNotIn(previous);
            throw new ConfigException(errors);
        }
        return next;
    }

    /**
     * The cache zones: a zone whose config is unchanged is taken over with everything it stores; a new or changed
     * one starts empty (the caller closes the replaced ones once the new snapshot is in force, or the new ones if
     * it is not).
     */
    private static Map<String, CacheZone> zones(PortcullisConfig cfg, Snapshot previous, ProxyMetrics metrics,
                                                boolean online, RedisClients redis, String file,
                                                List<ConfigError> errors) {
        Map<String, CacheZone> zones = new LinkedHashMap<>();
        for (CacheZoneConfig z : cfg.caches().values()) {
            CacheZone old = previous == null ? null : previous.caches().get(z.name());
            PortcullisConfig prevCfg = previous == null ? null : previous.config();
            // a shared tier is bound to its Redis client: a new client (redis changed) needs a new zone
            boolean sameRedis = z.shared() == null || previous != null && redis == previous.redis();
            if (old != null && prevCfg != null && z.equals(prevCfg.caches().get(z.name())) && sameRedis) {
                zones.put(z.name(), old);
            } else {
                zones.put(z.name(), online ? newZone(z, metrics, redis, file, errors)
                        : new CacheZone(z, metrics.cache(z.name())));
            }
        }
        return zones;
    }

    /**
     * A zone and its lower tiers, disk first, then shared. A {@code disk} directory that a replaced zone still uses
     * is taken over (its index and files), not opened twice; one that cannot be opened is a config error naming
     * {@code disk.path}.
     */
    private static CacheZone newZone(CacheZoneConfig z, ProxyMetrics metrics, RedisClients redis, String file,
                                     List<ConfigError> errors) {
        List<LowerTier> tiers = new ArrayList<>(2);
        if (z.disk() != null) {
            try {
                tiers.add(DiskTier.open(z.name(), z.disk(), z.maxObjectSize(), metrics.diskCache(z.name())));
            } catch (IOException e) {
                errors.add(new ConfigError(file, z.disk().line(), "caches." + z.name() + ".disk.path",
                        e.getMessage()));
            }
        }
        if (z.shared() != null && redis != null) {
            tiers.add(new RedisTier(z, redis));
        }
        return new CacheZone(z, metrics.cache(z.name()), tiers);
    }

    /** A forward listener's rules; a bad domain list entry is a config error naming its file and line. */
    private static ForwardRuntime forward(ListenerConfig l, Map<String, CacheZone> zones, ProxyMetrics metrics,
                                          String file, List<ConfigError> errors) {
        ForwardConfig f = l.forward();
        dev.portcullis.http.TlsInterception interception = null;
        if (f.interceptTls() != null) {
            ForwardConfig.InterceptTls t = f.interceptTls();
            try {
                interception = dev.portcullis.http.TlsInterception.build(l.name(), t);
            } catch (dev.portcullis.tls.InterceptAuthority.InvalidCaException e) {
                errors.add(new ConfigError(file, t.line(), t.path() + "." + e.key(), e.getMessage()));
                return null;
            } catch (ClientTls.TlsConfigException e) {
                errors.add(new ConfigError(file, t.line(), t.path() + ".origin_ca", e.getMessage()));
                return null;
            }
        }
        try {
            return new ForwardRuntime(l.name(), f, f.cacheZone() == null ? null : zones.get(f.cacheZone()), metrics,
                    interception);
        } catch (DomainRules.InvalidRulesException e) {
            for (DomainRules.Problem p : e.problems()) {
                boolean inList = p.source() != null;
                errors.add(new ConfigError(inList ? p.source() : file, inList ? p.line() : 0,
                        "listeners." + l.name() + ".forward", p.message()));
            }
            return null;
        } catch (dev.portcullis.auth.Htpasswd.InvalidFileException e) {
            for (dev.portcullis.auth.Htpasswd.Problem p : e.problems()) {
                errors.add(new ConfigError(p.file(), p.line(), "listeners." + l.name() + ".forward.auth.basic.htpasswd",
                        p.message()));
            }
            return null;
        }
    }

    /** The previous snapshot's client while {@code redis} is unchanged; a new one (connecting) otherwise. */
    private static RedisClients redis(PortcullisConfig cfg, Snapshot previous, ProxyMetrics metrics) {
        if (cfg.redis() == null) {
            return null;
        }
        RedisClients old = previous == null ? null : previous.redis();
        if (old != null && old.config().equals(cfg.redis())) {
            return old;
        }
        return RedisClients.open(cfg.redis(), metrics.redis());
    }

    /** The listener's TLS contexts; certificate problems become config errors naming the certificate's entry. */
    private static ServerTls serverTls(ListenerConfig l, String file, List<ConfigError> errors) {
        if (l.tls() == null) {
            return null;
        }
        return ServerTls.build(l.tls(), l.http2().enabled(),
                (line, path, message) -> errors.add(new ConfigError(file, line, path, message)));
    }

    private static Upstream compileUpstream(UpstreamConfig u, Upstream old, ProxyMetrics metrics, String file,
                                            List<ConfigError> errors) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < u.endpoints().size(); i++) {
            UpstreamConfig.EndpointConfig e = u.endpoints().get(i);
            String host = e.address().host();
            try {
                InetSocketAddress resolved = new InetSocketAddress(InetAddress.getByName(host), e.address().port());
                endpoints.add(EndpointFactory.endpoint(u.name(), e.address(), resolved, e.weight(), e.backup(), old, metrics));
            } catch (UnknownHostException ex) {
                errors.add(new ConfigError(file, 0, "upstreams." + u.name() + ".endpoints[" + i + "]",
                        "cannot resolve host '" + host + "'; check the name or the machine's DNS"));
            }
        }
        // DNS-found endpoints of the previous version stay until discovery says otherwise.
        endpoints.addAll(DnsDiscovery.carriedOver(u, old, endpoints));
        return new Upstream(u, endpoints, connectionSettings(u, file, errors));
    }

    /**
     * The upstream's protocol and client TLS context. A file that cannot be used is a config error naming the
     * {@code tls} key it came from; {@code verify: false} is allowed, with a warning each time it is loaded.
     */
    private static ConnectionSettings connectionSettings(UpstreamConfig u, String file, List<ConfigError> errors) {
        int timeout = (int) Math.min(Integer.MAX_VALUE, u.connectTimeout().toMillis());
        try {
            ConnectionSettings s = ConnectionSettings.compile(u.connection(), timeout);
            if (s.tls() != null) {
                UpstreamConnectionConfig.Tls t = u.connection().tls();
                if (!t.verify()) {
                    log.warn("upstream {}: tls.verify is false: the endpoints' certificates and names are NOT "
                            + "checked (encrypted, but anyone in the path can pose as the endpoint)", u.name());
                }
                log.info("upstream {}: {} to the endpoints over TLS ({}; sni {}; verify {}{}{})", u.name(),
                        u.connection().protocol().key, s.tls().provider(), t.sni() == null ? "from the endpoint host"
                                : t.sni(), t.verify(), t.ca() == null ? "" : "; ca " + t.ca(),
                        t.cert() == null ? "" : "; client certificate " + t.cert());
            }
            return s;
        } catch (ClientTls.TlsConfigException e) {
            errors.add(new ConfigError(file, u.connection().tls().line(), "upstreams." + u.name() + ".tls." + e.key(),
                    e.getMessage()));
            return ConnectionSettings.CLEAR_HTTP1;
        }
    }

    private static CompiledRoute compileRoute(String listener, RouteConfig r, Map<String, Upstream> upstreams,
                                              Map<String, CacheZone> zones, ProxyMetrics metrics,
                                              ConsumerDirectory consumers, List<ConfigError> errors,
                                              String file, RedisClients redis) {
        List<HttpFilter> filters = new ArrayList<>();
        RouteGate gate = null;
        if (!r.gateway().isEmpty()) {
            try {
                gate = new RouteGate(listener + "/" + r.name(), r.gateway(), consumers, ForwardRuntime.authExecutor(),
                        metrics.gateway(listener, r.name()), redis);
                filters.addAll(gate.responseFilters());
            } catch (dev.portcullis.auth.Htpasswd.InvalidFileException e) {
                for (dev.portcullis.auth.Htpasswd.Problem p : e.problems()) {
                    errors.add(new ConfigError(p.file(), p.line(), "listeners." + listener + ".routes." + r.name()
                            + ".auth.basic.htpasswd", p.message()));
                }
            } catch (IllegalArgumentException e) {
                // a JWKS file that cannot be used: named at the jwt key that reads it
                GatewayConfig.Jwt jwt = r.gateway().auth().methods().stream()
                        .filter(m -> m instanceof GatewayConfig.Jwt).map(m -> (GatewayConfig.Jwt) m).findFirst()
                        .orElse(null);
                errors.add(new ConfigError(file, jwt == null ? 0 : jwt.line(), jwt == null ? "listeners." + listener
                        + ".routes." + r.name() + ".auth" : jwt.path() + ".jwks", e.getMessage()));
            }
        }
        if (!r.headers().request().isEmpty()) {
            filters.add(new RequestHeadersFilter(r.headers().request()));
        }
        if (r.rewrite() != null) {
            filters.add(new PathRewriteFilter(r.rewrite()));
        }
        if (r.compress() != null) {
            // Before headers.response: the route's own header operations have the last word on the head.
            CompressionFilter compress = CompressionFilter.of(r.name(), r.compress(), metrics.compression(r.name()));
            if (compress != null) {
                filters.add(compress);
            }
        }
        if (!r.headers().response().isEmpty()) {
            filters.add(new ResponseHeadersFilter(r.headers().response()));
        }
        RouteTarget target;
        String upstreamName = "-";
        RouteStats stats = null;
        RouteAction action = r.action();
        if (action instanceof RouteAction.Proxy p) {
            target = new RouteTarget.ToUpstream(upstreams.get(p.upstream()));
            upstreamName = p.upstream();
        } else if (action instanceof RouteAction.Split sp) {
            RouteTarget.Split split = RouteTarget.Split.of(sp, upstreams, name -> metrics.route(listener, r.name(), name));
            target = split;
            // Each request is counted under the upstream it went to: no series for the route as a whole.
            stats = split.stats()[0];
        } else if (action instanceof RouteAction.Redirect rd) {
            target = new RouteTarget.Redirect(Template.compile(rd.to()), rd.status());
        } else {
            RouteAction.Respond rs = (RouteAction.Respond) action;
            target = new RouteTarget.Respond(rs.status(), rs.body().getBytes(StandardCharsets.UTF_8),
                    rs.headers().keySet().stream().map(AsciiString::cached).toArray(AsciiString[]::new),
                    rs.headers().values().stream().map(Template::compile).toArray(Template[]::new));
        }
        long timeout = r.timeout() == null ? 0 : r.timeout().toNanos();
        CompiledRoute.Mirror mirror = r.mirror() == null ? null
                : new CompiledRoute.Mirror(upstreams.get(r.mirror().upstream()), r.mirror().percent(),
                        timeout > 0 ? timeout : CompiledRoute.Mirror.DEFAULT_TIMEOUT_NANOS,
                        metrics.mirror(listener, r.name(), r.mirror().upstream()));
        if (stats == null) {
            stats = metrics.route(listener, r.name(), upstreamName);
        }
        RouteCache cache = r.cache() == null || !(target instanceof RouteTarget.ToUpstream
                || target instanceof RouteTarget.Split) ? null
                : RouteCache.of(zones.get(r.cache().zone()), new CacheKeys(r.cache().key()), timeout);
        return new CompiledRoute(r.name(), target, new FilterChain(filters), stats, timeout, r.retry(), mirror,
                cache, gate);
    }
}
