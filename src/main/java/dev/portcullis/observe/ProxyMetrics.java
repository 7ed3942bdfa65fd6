package dev.portcullis.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The process's metrics, one instance per process; it outlives config reloads. Hot-path objects ({@link RouteStats},
 * {@link ListenerStats}, {@link EndpointStats}) are cached per label set and hold pre-resolved data points, so
 * recording does no map lookup and no allocation.
 */
public final class ProxyMetrics {
    /** Buckets of {@code portcullis_request_duration_seconds}, in seconds. */
    static final double[] DURATION_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
    };
    static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter textWriter = PrometheusTextFormatWriter.create();
    private final DiskCacheMetrics diskCache = new DiskCacheMetrics(registry);

    final Counter requests;
    final Histogram requestDuration;
    final Gauge activeConnections;
    final Counter connections;
    final Counter connectionsRejected;
    final Counter rejectedRequests;
    final Counter upstreamConnectFailures;
    final Gauge upstreamActiveRequests;
    final Counter upstreamFailures;
    final Counter upstreamRequests;
    final Histogram upstreamDuration;
    final Gauge upstreamHealthy;
    final Counter upstreamEjections;
    final Counter mirrorRequests;
    final Counter upstreamCircuitOpen;
    final Counter tlsHandshakes;
    final Counter webSockets;
    final Counter forwardDenied;
    final Counter forwardTunnels;
    final Counter forwardTunnelBytes;
    final Counter forwardIntercepts;
    final Counter gatewayRejected;
    final Counter gatewayRedisErrors;
    final Counter consumerRequests;
    final Histogram consumerDuration;
    final Gauge activeWebSockets;
    final Counter webSocketBytes;
    final Counter cacheHits;
    final Counter cacheMisses;
    final Counter cacheStale;
    final Counter cacheCollapsed;
    final Counter cacheEvictions;
    final Counter cachePurged;
    final Counter compressedResponses;
    final Counter compressionBytes;
    private final CounterDataPoint accessLogDropped;
    private final CounterDataPoint reloadsOk;
    private final CounterDataPoint reloadsRefused;

    private final ConcurrentMap<RouteKey, RouteStats> routes = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, ListenerStats> listeners = new ConcurrentHashMap<>();
    private final ConcurrentMap<EndpointKey, EndpointStats> endpoints = new ConcurrentHashMap<>();
    private final ConcurrentMap<RouteKey, MirrorStats> mirrors = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, CacheStats> caches = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, CompressionStats> compression = new ConcurrentHashMap<>();
    private RedisStats redis;
    private final ConcurrentMap<String, ForwardStats> forwardStats = new ConcurrentHashMap<>();
    /** Kept across reloads, as route stats are: a route's consumer cap holds for the life of the process. */
    private final ConcurrentMap<RouteKey, GatewayStats> gateways = new ConcurrentHashMap<>();

    private record RouteKey(String listener, String route, String upstream) {}

    private record EndpointKey(String upstream, String endpoint) {}

    public ProxyMetrics() {
        JvmMetrics.builder().register(registry);
        requests = Counter.builder()
                .name("portcullis_requests_total")
                .help("HTTP requests answered, by status class")
                .labelNames("listener", "route", "upstream", "status")
                .withoutExemplars()
                .register(registry);
        requestDuration = Histogram.builder()
                .name("portcullis_request_duration_seconds")
                .help("Time from the first byte of a request to the last byte of its response")
                .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS)
                .labelNames("listener", "route", "upstream")
                .classicOnly()
                .classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars()
                .register(registry);
        activeConnections = Gauge.builder()
                .name("portcullis_active_connections")
                .help("Client connections open now")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        connections = Counter.builder()
                .name("portcullis_connections_total")
                .help("Client connections accepted")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        connectionsRejected = Counter.builder()
                .name("portcullis_connections_rejected_total")
                .help("Client connections closed at once because the listener was at max_connections")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        rejectedRequests = Counter.builder()
                .name("portcullis_rejected_requests_total")
                .help("Requests refused by the proxy itself: malformed or too large (400, 408, 413, 414, 431), or by a "
                        + "route's gateway checks (401, 403, 429)")
                .labelNames("listener", "status")
                .withoutExemplars()
                .register(registry);
        upstreamConnectFailures = Counter.builder()
                .name("portcullis_upstream_connect_failures_total")
                .help("Connections to an upstream endpoint that could not be opened")
                .labelNames("upstream", "endpoint")
                .withoutExemplars()
                .register(registry);
        upstreamActiveRequests = Gauge.builder()
                .name("portcullis_upstream_active_requests")
                .help("Requests in flight to an upstream endpoint")
                .labelNames("upstream", "endpoint")
                .withoutExemplars()
                .register(registry);
        upstreamFailures = Counter.builder()
                .name("portcullis_upstream_failures_total")
                .help("Requests to an upstream endpoint that failed: reset, broken reply or timeout")
                .labelNames("upstream", "endpoint")
                .withoutExemplars()
                .register(registry);
        upstreamRequests = Counter.builder()
                .name("portcullis_upstream_requests_total")
                .help("Requests answered through an upstream endpoint, by the status class sent to the client")
                .labelNames("upstream", "endpoint", "status")
                .withoutExemplars()
                .register(registry);
        upstreamDuration = Histogram.builder()
                .name("portcullis_upstream_request_duration_seconds")
                .help("Time from the first byte of a request to the last byte of its response, by the endpoint that answered")
                .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS)
                .labelNames("upstream", "endpoint")
                .classicOnly()
                .classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars()
                .register(registry);
        upstreamHealthy = Gauge.builder()
                .name("portcullis_upstream_endpoint_healthy")
                .help("1 while the endpoint takes new requests (healthy, not ejected, not drained), else 0")
                .labelNames("upstream", "endpoint")
                .withoutExemplars()
                .register(registry);
        upstreamEjections = Counter.builder()
                .name("portcullis_upstream_ejections_total")
                .help("Times outlier detection ejected the endpoint")
                .labelNames("upstream", "endpoint")
                .withoutExemplars()
                .register(registry);
        mirrorRequests = Counter.builder()
                .name("portcullis_mirror_requests_total")
                .help("Copies of requests sent to a route's mirror upstream, by result (ok, failed, timeout, abandoned, skipped)")
                .labelNames("listener", "route", "upstream", "result")
                .withoutExemplars()
                .register(registry);
        upstreamCircuitOpen = Counter.builder()
                .name("portcullis_upstream_circuit_open_total")
                .help("Requests answered 503 at once because the upstream's circuit_breaker was at a limit")
                .labelNames("upstream")
                .withoutExemplars()
                .register(registry);
        tlsHandshakes = Counter.builder()
                .name("portcullis_tls_handshakes_total")
                .help("TLS handshakes with clients, by result: ok, or why they failed (protocol, certificate, "
                        + "timeout, closed, not_tls, plain_http, other)")
                .labelNames("listener", "result")
                .withoutExemplars()
                .register(registry);
        webSockets = Counter.builder()
                .name("portcullis_websocket_connections_total")
                .help("WebSocket upgrades accepted by an upstream (101) and relayed")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        activeWebSockets = Gauge.builder()
                .name("portcullis_websocket_active_connections")
                .help("WebSocket tunnels open now")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        webSocketBytes = Counter.builder()
                .name("portcullis_websocket_bytes_total")
                .help("Bytes relayed through WebSocket tunnels once they closed, by direction (upstream, client)")
                .labelNames("listener", "direction")
                .withoutExemplars()
                .register(registry);
        forwardDenied = Counter.builder()
                .name("portcullis_forward_denied_total")
                .help("Forward proxy requests and tunnels refused, by rule (client, port, domain, private, auth, dns, command, host)")
                .labelNames("listener", "rule")
                .withoutExemplars()
                .register(registry);
        forwardTunnels = Counter.builder()
                .name("portcullis_forward_tunnels_total")
                .help("CONNECT and SOCKS5 tunnels established by a forward proxy")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        forwardTunnelBytes = Counter.builder()
                .name("portcullis_forward_tunnel_bytes_total")
                .help("Bytes relayed through CONNECT and SOCKS5 tunnels once they closed, by direction (upstream, client)")
                .labelNames("listener", "direction")
                .withoutExemplars()
                .register(registry);
        gatewayRejected = Counter.builder()
                .name("portcullis_gateway_rejected_total")
                .help("Requests a route's gateway checks answered itself, by reason (access, cors, auth, group, "
                        + "rate_limit)")
                .labelNames("listener", "route", "reason")
                .withoutExemplars()
                .register(registry);
        gatewayRedisErrors = Counter.builder()
                .name("portcullis_gateway_rate_limit_redis_errors_total")
                .help("Rate limit decisions that Redis could not make (store: redis), by what on_redis_error did "
                        + "(allowed, denied)")
                .labelNames("listener", "route", "outcome")
                .withoutExemplars()
                .register(registry);
        consumerRequests = Counter.builder()
                .name("portcullis_consumer_requests_total")
                .help("Requests of authenticated consumers, by route and status class")
                .labelNames("listener", "route", "consumer", "status")
                .withoutExemplars()
                .register(registry);
        consumerDuration = Histogram.builder()
                .name("portcullis_consumer_request_duration_seconds")
                .help("Time from the first byte of an authenticated consumer's request to the last byte of its "
                        + "response")
                .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS)
                .labelNames("listener", "route", "consumer")
                .classicOnly()
                .classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars()
                .register(registry);
        forwardIntercepts = Counter.builder()
                .name("portcullis_forward_intercepts_total")
                .help("CONNECT tunnels whose TLS the proxy ended (intercept_tls), by result (ok, handshake_failed)")
                .labelNames("listener", "result")
                .withoutExemplars()
                .register(registry);
        cacheHits = cacheCounter("portcullis_cache_hits_total", "Responses served from the cache");
        cacheMisses = cacheCounter("portcullis_cache_misses_total", "Cacheable requests the cache could not answer");
        cacheStale = cacheCounter("portcullis_cache_stale_total",
                "Stale responses served (stale-while-revalidate, stale-if-error)");
        cacheCollapsed = cacheCounter("portcullis_cache_collapsed_total",
                "Requests that followed another request's upstream fetch instead of making their own");
        cacheEvictions = cacheCounter("portcullis_cache_evictions_total",
                "Objects the memory tier dropped to stay within its bytes");
        cachePurged = cacheCounter("portcullis_cache_purged_total", "Objects removed by purges (url, prefix, tag)");
        GaugeWithCallback.builder()
                .name("portcullis_cache_objects")
                .help("Objects in the cache zone's memory tier")
                .labelNames("zone")
                .callback(cb -> caches.forEach((zone, stats) -> cb.call(stats.objects(), zone)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("portcullis_cache_bytes")
                .help("Bytes in the cache zone's memory tier (bodies and headers, as weighed for its bound)")
                .unit(io.prometheus.metrics.model.snapshots.Unit.BYTES)
                .labelNames("zone")
                .callback(cb -> caches.forEach((zone, stats) -> cb.call(stats.bytes(), zone)))
                .register(registry);
        compressedResponses = Counter.builder()
                .name("portcullis_compressed_responses_total")
                .help("Response bodies compressed by the proxy (route compress), by algorithm (br, zstd, gzip)")
                .labelNames("route", "algorithm")
                .withoutExemplars()
                .register(registry);
        compressionBytes = Counter.builder()
                .name("portcullis_compression_bytes_total")
                .help("Bytes into (direction in) and out of (direction out) the response compressors, by algorithm")
                .labelNames("route", "algorithm", "direction")
                .withoutExemplars()
                .register(registry);
        accessLogDropped = Counter.builder()
                .name("portcullis_access_log_dropped_total")
                .help("Access log lines dropped because the writer fell behind or could not write")
                .withoutExemplars()
                .register(registry)
                .labelValues();
        Counter reloads = Counter.builder()
                .name("portcullis_config_reloads_total")
                .help("Config reloads, by result")
                .labelNames("result")
                .withoutExemplars()
                .register(registry);
        reloadsOk = reloads.labelValues("ok");
        reloadsRefused = reloads.labelValues("refused");
    }

    /**
     * Stats of one route; the same arguments give the same instance.
     *
     * @param upstream the upstream's name, or "-" for routes that answer locally
     */
    public RouteStats route(String listener, String route, String upstream) {
        return routes.computeIfAbsent(new RouteKey(listener, route, upstream),
                k -> new RouteStats(this, k.listener(), k.route(), k.upstream()));
    }

    /** The gateway counters of one route (rejections by reason, requests per consumer). */
    public GatewayStats gateway(String listener, String route) {
        return gateways.computeIfAbsent(new RouteKey(listener, route, ""),
                k -> new GatewayStats(this, k.listener(), k.route()));
    }

    /** Mirror outcomes of one route; the same arguments give the same instance. */
    public MirrorStats mirror(String listener, String route, String mirrorUpstream) {
        return mirrors.computeIfAbsent(new RouteKey(listener, route, mirrorUpstream),
                k -> new MirrorStats(this, k.listener(), k.route(), k.upstream()));
    }

    /** Stats of one cache zone; the same name gives the same instance (across reloads). */
    public CacheStats cache(String zone) {
        return caches.computeIfAbsent(zone, z -> new CacheStats(this, z));
    }

    /** Stats of one cache zone's disk tier; the same name gives the same instance (across reloads). */
    public DiskCacheStats diskCache(String zone) {
        return diskCache.zone(zone);
    }

    private Counter cacheCounter(String name, String help) {
        return Counter.builder().name(name).help(help).labelNames("zone").withoutExemplars().register(registry);
    }

    /** The Redis client's and shared tiers' metrics, registered on first use (configs without redis have none). */
    public synchronized RedisStats redis() {
        if (redis == null) {
            redis = new RedisStats(registry);
        }
        return redis;
    }

    /** Compression counters of one route; the same name gives the same instance. */
    public CompressionStats compression(String route) {
        return compression.computeIfAbsent(route, r -> new CompressionStats(this, r));
    }

    /** Forward proxy counters of one listener; the same name gives the same instance. */
    public ForwardStats forward(String listener) {
        return forwardStats.computeIfAbsent(listener, l -> new ForwardStats(this, l));
    }

    /** Stats of one listener; the same name gives the same instance. */
    public ListenerStats listener(String name) {
        return listeners.computeIfAbsent(name, n -> new ListenerStats(this, n));
    }

    /** Stats of one endpoint of an upstream; the same arguments give the same instance. */
    public EndpointStats endpoint(String upstream, String endpoint) {
        return endpoints.computeIfAbsent(new EndpointKey(upstream, endpoint),
                k -> new EndpointStats(this, k.upstream(), k.endpoint()));
    }

    /** One access log line was dropped (queue full or write failed). */
    public void accessLogDropped() {
        accessLogDropped.inc();
    }

    /** A request was refused by the upstream's circuit breaker (rare enough to look the data point up). */
    public void upstreamCircuitOpen(String upstream) {
        upstreamCircuitOpen.labelValues(upstream).inc();
    }

    /** @param ok true when the new config was applied, false when it was refused */
    public void reload(boolean ok) {
        (ok ? reloadsOk : reloadsRefused).inc();
    }

    /** Writes every metric in the Prometheus text format 0.0.4. */
    public void writeText(OutputStream out) throws IOException {
        textWriter.write(out, registry.scrape());
    }

    /** The content type of {@link #writeText}. */
    public static String textContentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Index into {@link #STATUS_CLASSES}: 1xx..5xx; a status outside 100..599 counts as 5xx. */
    static int statusClassIndex(int status) {
        int c = status / 100;
        return c < 1 || c > 5 ? 4 : c - 1;
    }
}
