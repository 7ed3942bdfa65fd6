package dev.portcullis.upstream;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.lb.Balancer;
import dev.portcullis.upstream.lb.PickContext;
import dev.portcullis.upstream.lb.Picker;
import dev.portcullis.upstream.lb.Weights;
import dev.portcullis.upstream.pool.ConnectionSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A named group of endpoints with its balancing policy, health state and limits, compiled from config.
 * Protocol-free: HTTP routes use it today, L4 listeners will too.
 *
 * <p>The hot path is {@link #choose}: one volatile read of the current {@link EndpointSet} and the picker's work.
 * Everything that changes which endpoints take traffic (checks, ejections, drains, agents, slow start, DNS) calls
 * {@link #refresh()}, which rebuilds the set off the request path.
 */
public final class Upstream {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Upstream.class);
    private final UpstreamConfig config;
    private final Balancer balancer;
    private final int connectTimeoutMillis;
    private final int maxIdlePerEndpoint;
    private final long idleTimeoutNanos;
    private final long slowStartNanos;
    private final CircuitBreaker breaker;
    /** Protocol and TLS towards the endpoints, compiled; with the endpoint, the key of the connection pools. */
    private final ConnectionSettings connection;
    private final RetryBudget retryBudget = new RetryBudget();
    /** Null without {@code sticky}. */
    private final StickySessions sticky;
    private volatile List<Endpoint> endpoints;
    /** Serialises ejection decisions (max_ejected) without waiting for a set rebuild in progress. */
    private final Object ejectLock = new Object();
    private volatile Executor refresher;
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private volatile EndpointSet set = EndpointSet.EMPTY;

    /** An upstream without {@code tls} (its settings need no files). */
    public Upstream(UpstreamConfig config, List<Endpoint> endpoints) {
        this(config, endpoints, clearText(config));
    }

    /** @param connection compiled from {@code config.connection()} (see SnapshotCompiler) */
    public Upstream(UpstreamConfig config, List<Endpoint> endpoints, ConnectionSettings connection) {
        this.config = config;
        this.connection = connection;
        this.balancer = Balancer.of(config);
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis());
        this.maxIdlePerEndpoint = config.keepalive().maxIdlePerEndpoint();
        this.idleTimeoutNanos = config.keepalive().idleTimeout().toNanos();
        this.slowStartNanos = config.slowStart().toNanos();
        this.breaker = new CircuitBreaker(config.circuitBreaker());
        this.endpoints = List.copyOf(endpoints);
        this.sticky = config.sticky() == null ? null : new StickySessions(this, config.sticky());
        if (sticky != null) {
            sticky.prepare(this.endpoints);
        }
        refresh();
    }

    private static ConnectionSettings clearText(UpstreamConfig config) {
        if (config.connection().tls() != null) {
            throw new IllegalArgumentException("upstream " + config.name() + " has tls: compile its settings first");
        }
        return config.connection().protocol() == dev.portcullis.config.UpstreamConnectionConfig.Protocol.HTTP1
                ? ConnectionSettings.CLEAR_HTTP1 : new ConnectionSettings(config.connection().protocol(), null);
    }

    public String name() {
        return config.name();
    }

    /** How connections to the endpoints are made (protocol, TLS). */
    public ConnectionSettings connection() {
        return connection;
    }

    public UpstreamConfig config() {
        return config;
    }

    /** Every endpoint, configured and discovered, in a stable order. */
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** Replaces the endpoint list (DNS discovery) and rebuilds the set. */
    public void endpoints(List<Endpoint> next) {
        synchronized (this) {
            List<Endpoint> list = List.copyOf(next);
            if (sticky != null) {
                sticky.prepare(list); // the cookie ids, built here rather than by the first request of each loop
            }
            this.endpoints = list;
            refresh();
        }
    }

    public EndpointSet set() {
        return set;
    }

    /** The endpoint for the next try of a request, or null when every endpoint was tried. */
    public Endpoint choose(PickContext ctx) {
        return set.choose(ctx);
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Session persistence by cookie; null when the upstream has no {@code sticky}. */
    public StickySessions sticky() {
        return sticky;
    }

    public RetryBudget retryBudget() {
        return retryBudget;
    }

    public int connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public int maxIdlePerEndpoint() {
        return maxIdlePerEndpoint;
    }

    public long idleTimeoutNanos() {
        return idleTimeoutNanos;
    }

    // ---- passive health: request outcomes ----

    /**
     * How one try went, for latency-aware balancing ({@code peak_ewma}; a no-op for the others): the time from
     * sending the request to the response head, or a failure (connect error, reset, broken reply, 5xx).
     */
    public void observe(Endpoint e, long latencyNanos, boolean failed) {
        balancer.observe(e, latencyNanos, failed);
    }

    /** A try answered without a failure the outlier detector counts. */
    public void reportSuccess(Endpoint e) {
        e.state().success();
    }

    /**
     * A try failed: connect error, reset, timeout or a 5xx response. With {@code outlier_detection}, enough in a
     * row eject the endpoint for {@code ejection_time} × the times it was ejected, unless {@code max_ejected}
     * endpoints are out already (at least one may always be). The supervisor brings it back when the time is over.
     */
    public void reportFailure(Endpoint e) {
        UpstreamConfig.OutlierDetection od = config.outlierDetection();
        int failures = e.state().failure();
        if (od == null || failures < od.consecutiveFailures()) {
            return;
        }
        synchronized (ejectLock) {
            long now = System.nanoTime();
            if (e.state().ejected(now)) {
                // Ejected already, yet still chosen: the set in use predates it (another version of this upstream
                // ejected it before a reload handed over the state). Panic sets keep ejected endpoints on purpose.
                EndpointSet current = set;
                if (!current.panic() && current.contains(e)) {
                    refreshSoon();
                }
                return;
            }
            int ejected = 0;
            for (Endpoint x : endpoints) {
                if (x.state().ejected(now)) {
                    ejected++;
                }
            }
            int max = Math.max(1, (int) Math.floor(endpoints.size() * od.maxEjectedPercent() / 100.0));
            if (ejected >= max) {
                return;
            }
            e.state().eject(now, od.ejectionTime().toNanos());
            e.stats().ejected();
            LOG.warn("upstream {}: endpoint {} ejected for {} ms after {} failures in a row (ejection #{})", name(),
                    e.label(), (e.state().ejectedUntilNanos() - now) / 1_000_000, failures, e.state().ejections());
        }
        refreshSoon();
    }

    /**
     * Rebuilds the set on the supervisor's loop (once it watches this upstream), so that an event loop that
     * reports a failure never builds a Maglev table or a ring itself. Requests queued meanwhile coalesce into one.
     */
    public void refreshSoon() {
        Executor r = refresher;
        if (r == null) {
            refresh();
        } else if (refreshQueued.compareAndSet(false, true)) {
            r.execute(() -> {
                refreshQueued.set(false);
                refresh();
            });
        }
    }

    /** Where {@link #refreshSoon} rebuilds the set; set by the supervisor when it starts watching this upstream. */
    public void refresher(Executor executor) {
        this.refresher = executor;
    }

    /** Returns endpoints whose ejection time is over; called by the supervisor. @return true when one returned */
    public boolean returnEjected(long now) {
        boolean any = false;
        synchronized (ejectLock) {
            for (Endpoint e : endpoints) {
                EndpointState st = e.state();
                if (st.ejectionPending() && !st.ejected(now)) {
                    st.unEject();
                    LOG.info("upstream {}: endpoint {} back after its ejection", name(), e.label());
                    any = true;
                }
            }
        }
        if (any) {
            refresh();
        }
        return any;
    }

    /** Whether some endpoint is still ramping up under slow start (the supervisor then refreshes regularly). */
    public boolean rampingUp(long now) {
        if (slowStartNanos == 0) {
            return false;
        }
        for (Endpoint e : endpoints) {
            long since = e.state().readySinceNanos();
            if (since != 0 && now - since < slowStartNanos) {
                return true;
            }
        }
        return false;
    }

    /** Whether the endpoint may take new requests by its own state (not drained, not down, not ejected). */
    public static boolean available(Endpoint e, long now) {
        EndpointState s = e.state();
        return !s.refusesNewRequests() && s.healthy() && !s.ejected(now);
    }

    /**
     * Rebuilds the endpoint set from the endpoints' states. Cheap enough to call on every state change.
     *
     * <p>Healthy primaries take the traffic. When none is healthy, or fewer than {@code panic_threshold} percent of
     * them, the healthy backups join those left. With no healthy backup either, panic: every primary (not drained)
     * takes traffic, health ignored, rather than overloading the few or answering 503; {@code panic_threshold: 0}
     * turns panic off, and then no healthy endpoint means 503.
     */
    public synchronized void refresh() {
        long now = System.nanoTime();
        List<Endpoint> primaries = new ArrayList<>();
        List<Endpoint> healthyPrimaries = new ArrayList<>();
        List<Endpoint> healthyBackups = new ArrayList<>();
        List<Endpoint> sickPrimaries = new ArrayList<>();
        List<Endpoint> sickBackups = new ArrayList<>();
        for (Endpoint e : endpoints) {
            boolean up = available(e, now);
            e.stats().available(up);
            if (e.state().refusesNewRequests()) {
                continue;
            }
            if (e.backup()) {
                (up ? healthyBackups : sickBackups).add(e);
            } else {
                primaries.add(e);
                (up ? healthyPrimaries : sickPrimaries).add(e);
            }
        }
        // What a retry walks once the active set is used up: healthy ones before sick ones, primaries first.
        List<Endpoint> fallback = new ArrayList<>(healthyPrimaries);
        fallback.addAll(healthyBackups);
        fallback.addAll(sickPrimaries);
        fallback.addAll(sickBackups);
        List<Endpoint> active;
        boolean panic = false;
        double threshold = config.panicThreshold();
        boolean belowThreshold = healthyPrimaries.size() * 100.0 < threshold * primaries.size();
        if (!healthyPrimaries.isEmpty() && !belowThreshold) {
            active = healthyPrimaries;
        } else if (!healthyBackups.isEmpty()) {
            active = new ArrayList<>(healthyPrimaries);
            active.addAll(healthyBackups);
        } else if (threshold > 0 && !fallback.isEmpty()) {
            active = primaries.isEmpty() ? sickBackups : primaries;
            panic = true;
        } else {
            active = healthyPrimaries;
        }
        Endpoint[] a = active.toArray(Endpoint[]::new);
        int[] w = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            w[i] = effectiveWeight(a[i], now);
        }
        set = new EndpointSet(a, w, fallback.toArray(Endpoint[]::new), panic,
                a.length == 0 ? null : a.length == 1 ? only(a[0]) : balancer.build(a, w));
    }

    private static Picker only(Endpoint e) {
        return ctx -> e;
    }

    /** Config weight × the agent's percentage × the slow-start ramp (from 10% to 100% over the window); at least 1. */
    int effectiveWeight(Endpoint e, long now) {
        double w = (double) e.weight() * Weights.SCALE * e.state().agentWeightPercent() / 100.0;
        long since = e.state().readySinceNanos();
        if (slowStartNanos > 0 && since != 0 && now - since < slowStartNanos) {
            double f = Math.max(0.1, (double) (now - since) / slowStartNanos);
            w *= f;
        }
        return (int) Math.max(1, Math.round(w));
    }

    /** Effective weight now, for the admin API. */
    public int effectiveWeightNow(Endpoint e) {
        return effectiveWeight(e, System.nanoTime());
    }
}
