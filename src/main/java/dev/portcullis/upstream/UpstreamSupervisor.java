package dev.portcullis.upstream;

import dev.portcullis.net.Transport;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.discovery.DnsDiscovery;
import dev.portcullis.upstream.discovery.Resolver;
import dev.portcullis.upstream.health.ActiveHealthCheck;
import dev.portcullis.upstream.health.AgentCheck;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs everything that watches upstreams over time, on its own event loop, never on the request loops: active
 * health checks, agent checks, DNS discovery, the return of ejected endpoints and the slow-start ramp. Each
 * loaded snapshot's upstreams are {@link #activate activated}; upstreams a reload dropped or replaced stop.
 */
public final class UpstreamSupervisor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UpstreamSupervisor.class);
    static final long TICK_MILLIS = 200;

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Transport transport;
    private final ProxyMetrics metrics;
    /** Closes the idle pooled connections of endpoints that DNS discovery dropped (PoolRegistry.retire). */
    private final Consumer<Collection<Endpoint>> retire;
    /** DNS lookups block: they run here, one at a time, never on the supervisor loop or a request loop. */
    private final ExecutorService dnsThread =
            Executors.newSingleThreadExecutor(new DefaultThreadFactory("portcullis-dns", true));
    private volatile Resolver resolver = Resolver.SYSTEM;
    /** The upstreams of the running snapshot and what runs for each; touched on the supervisor loop only. */
    private final Map<Upstream, List<AutoCloseable>> running = new IdentityHashMap<>();
    private final ScheduledFuture<?> tick;
    /** Upstreams ramping up at the last tick: one more refresh when the ramp ends puts weights at 100%. */
    private final Set<Upstream> ramping = Collections.newSetFromMap(new IdentityHashMap<>());

    /** Without pools to retire from (tests): endpoints DNS dropped are only marked retired. */
    public UpstreamSupervisor(Transport transport) {
        this(transport, new ProxyMetrics(), eps -> eps.forEach(Endpoint::retire));
    }

    /**
     * @param metrics where endpoints found by DNS get their counters
     * @param retire  closes the idle pooled connections of endpoints DNS discovery dropped, on every event loop
     */
    public UpstreamSupervisor(Transport transport, ProxyMetrics metrics, Consumer<Collection<Endpoint>> retire) {
        this.transport = transport;
        this.metrics = metrics;
        this.retire = retire;
        this.group = transport.newGroup(1, "portcullis-health");
        this.loop = group.next();
        this.tick = loop.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Replaces the DNS resolver of discovery (tests); the next refresh of every upstream uses it. */
    public void resolver(Resolver r) {
        this.resolver = r;
    }

    /** The event loop that checks run on (tests may schedule on it too). */
    public EventLoopGroup group() {
        return group;
    }

    public Transport transport() {
        return transport;
    }

    /**
     * Hands freshly compiled upstreams the supervisor's loop for their set rebuilds, before any request can reach
     * them, so an ejection in the moments before {@link #activate} never rebuilds on an event loop.
     */
    public void adopt(Collection<Upstream> upstreams) {
        for (Upstream u : upstreams) {
            u.refresher(group.next());
        }
    }

    /** Makes {@code upstreams} the ones watched: new ones start, missing ones stop. Returns when applied. */
    public void activate(Collection<Upstream> upstreams) {
        Set<Upstream> next = Collections.newSetFromMap(new IdentityHashMap<>());
        next.addAll(upstreams);
        group.next().submit(() -> {
            running.entrySet().removeIf(e -> {
                if (!next.contains(e.getKey())) {
                    ramping.remove(e.getKey());
                    e.getValue().forEach(UpstreamSupervisor::closeQuietly);
                    return true;
                }
                return false;
            });
            for (Upstream u : next) {
                running.computeIfAbsent(u, this::startWatching);
            }
        }).syncUninterruptibly();
    }

    /**
     * What watches one upstream: its health checks and DNS discovery, each closed when the upstream goes. A check
     * the config no longer has leaves nothing behind: without active checks every endpoint counts as healthy,
     * without an agent none is held down, drained or re-weighted by one (the state survives a reload otherwise).
     */
    private List<AutoCloseable> startWatching(Upstream u) {
        List<AutoCloseable> watchers = new ArrayList<>();
        try {
            List<ActiveHealthCheck> active = new ArrayList<>();
            List<AgentCheck> agents = new ArrayList<>();
            if (ActiveHealthCheck.configured(u.config())) {
                active.add(new ActiveHealthCheck(u, loop, transport));
            }
            if (AgentCheck.configured(u.config())) {
                agents.add(new AgentCheck(u, loop, transport));
            }
            watchers.addAll(active);
            watchers.addAll(agents);
            Runnable sync = () -> {
                active.forEach(ActiveHealthCheck::sync);
                agents.forEach(AgentCheck::sync);
            };
            if (u.config().discovery() != null) {
                watchers.add(new DnsDiscovery(u, loop, dnsThread, () -> resolver, metrics, retire, sync));
            }
            forgetRemovedChecks(u, active.isEmpty(), agents.isEmpty());
            sync.run();
        } catch (RuntimeException e) {
            log.error("upstream {}: starting its health checks or discovery failed", u.name(), e);
        }
        return watchers;
    }

    private static void forgetRemovedChecks(Upstream u, boolean noActiveCheck, boolean noAgent) {
        boolean healthReset = false;
        boolean agentReset = false;
        for (Endpoint e : u.endpoints()) {
            EndpointState s = e.state();
            if (noActiveCheck) {
                healthReset |= s.checkResult(true, 1, 1);
            }
            if (noAgent) {
                agentReset |= s.agentDown(false) | s.agentDrained(false) | s.agentWeightPercent(100);
            }
        }
        if (healthReset) {
            log.info("upstream {}: its active health check left the config; every endpoint counts as healthy again",
                    u.name());
        }
        if (agentReset) {
            log.info("upstream {}: its agent check left the config; agent weights, drains and downs are cleared",
                    u.name());
        }
        if (healthReset || agentReset) {
            u.refresh();
        }
    }

    private void tick() {
        long now = System.nanoTime();
        for (Upstream u : running.keySet()) {
            try {
                boolean returned = u.returnEjected(now);
                boolean ramp = u.rampingUp(now);
                if (!returned && (ramp || ramping.contains(u))) {
                    u.refresh();
                }
                if (ramp) {
                    ramping.add(u);
                } else {
                    ramping.remove(u);
                }
            } catch (RuntimeException e) {
                log.error("upstream {}: supervisor tick failed", u.name(), e);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.warn("stopping an upstream watcher failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        tick.cancel(false);
        group.next().submit(() -> {
            running.values().forEach(l -> l.forEach(UpstreamSupervisor::closeQuietly));
            running.clear();
        }).awaitUninterruptibly(2, TimeUnit.SECONDS);
        dnsThread.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
