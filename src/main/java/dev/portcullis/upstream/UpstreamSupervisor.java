package dev.portcullis.upstream;

import dev.portcullis.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
    private final Transport transport;
    /** The upstreams of the running snapshot and what runs for each; touched on the supervisor loop only. */
    private final Map<Upstream, List<AutoCloseable>> running = new IdentityHashMap<>();
    private final ScheduledFuture<?> tick;
    /** Upstreams ramping up at the last tick: one more refresh when the ramp ends puts weights at 100%. */
    private final Set<Upstream> ramping = Collections.newSetFromMap(new IdentityHashMap<>());

    public UpstreamSupervisor(Transport transport) {
        this.transport = transport;
        this.group = transport.newGroup(1, "portcullis-health");
        this.tick = group.next().scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The event loop that checks run on (tests may schedule on it too). */
    public EventLoopGroup group() {
        return group;
    }

    public Transport transport() {
        return transport;
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

    /** What watches one upstream: its health checks and DNS discovery, each closed when the upstream goes. */
    private List<AutoCloseable> startWatching(Upstream u) {
        return List.of();
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
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
