package dev.portcullis.upstream.health;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every endpoint of one upstream again and again, on the supervisor loop only (so it needs no locks).
 * Each endpoint has its own rhythm: the first probe comes after a random offset below min(interval, 1 s), so a
 * hundred endpoints are not probed in the same instant; the next starts one interval ±10% after the previous
 * one started, and never before it ended (one probe at a time per endpoint). {@link #sync()} follows endpoints
 * that DNS discovery added or removed; {@link #close()} stops everything, and results that arrive later are dropped.
 */
abstract class EndpointProbes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EndpointProbes.class);
    static final long MAX_FIRST_OFFSET_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final double JITTER = 0.10;

    protected final Upstream upstream;
    protected final EventLoop loop;
    private final long intervalNanos;
    private final Map<Endpoint, Slot> slots = new IdentityHashMap<>();
    private boolean closed;

    /** One endpoint's probe rhythm; a new slot replaces it when the endpoint leaves and comes back. */
    private static final class Slot {
        final Endpoint endpoint;
        ScheduledFuture<?> next;

        Slot(Endpoint endpoint) {
            this.endpoint = endpoint;
        }
    }

    EndpointProbes(Upstream upstream, EventLoop loop, long intervalNanos) {
        this.upstream = upstream;
        this.loop = loop;
        this.intervalNanos = intervalNanos;
    }

    /** Starts probing endpoints that joined the upstream and stops for those that left. On the supervisor loop. */
    public final void sync() {
        if (closed) {
            return;
        }
        Set<Endpoint> now = Collections.newSetFromMap(new IdentityHashMap<>());
        now.addAll(upstream.endpoints());
        for (Slot s : new ArrayList<>(slots.values())) {
            if (!now.contains(s.endpoint)) {
                cancel(s);
                slots.remove(s.endpoint);
                forget(s.endpoint);
            }
        }
        long firstMax = Math.max(1, Math.min(intervalNanos, MAX_FIRST_OFFSET_NANOS));
        for (Endpoint e : now) {
            if (!slots.containsKey(e)) {
                Slot s = new Slot(e);
                slots.put(e, s);
                schedule(s, ThreadLocalRandom.current().nextLong(firstMax));
            }
        }
    }

    /** Starts one probe of {@code e}; {@code done} must be called exactly once, on the supervisor loop. */
    protected abstract void probe(Endpoint e, Consumer<ProbeResult> done);

    /** Applies a result while the endpoint is still watched. */
    protected abstract void apply(Endpoint e, ProbeResult r);

    /** The endpoint left the upstream. */
    protected void forget(Endpoint e) {
    }

    private void schedule(Slot s, long delayNanos) {
        s.next = loop.schedule(() -> run(s), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void run(Slot s) {
        if (!live(s)) {
            return;
        }
        s.next = null;
        long start = System.nanoTime();
        try {
            probe(s.endpoint, r -> done(s, start, r));
        } catch (RuntimeException ex) {
            log.error("upstream {}: probe of endpoint {} could not start", upstream.name(), s.endpoint.label(), ex);
            done(s, start, new ProbeResult(false, ex.toString()));
        }
    }

    private void done(Slot s, long start, ProbeResult r) {
        if (!live(s)) {
            return;
        }
        try {
            apply(s.endpoint, r);
        } catch (RuntimeException ex) {
            log.error("upstream {}: applying a probe result of endpoint {} failed", upstream.name(),
                    s.endpoint.label(), ex);
        }
        double f = 1 - JITTER + 2 * JITTER * ThreadLocalRandom.current().nextDouble();
        schedule(s, Math.max(0, start + (long) (intervalNanos * f) - System.nanoTime()));
    }

    private boolean live(Slot s) {
        return !closed && slots.get(s.endpoint) == s;
    }

    private static void cancel(Slot s) {
        if (s.next != null) {
            s.next.cancel(false);
        }
    }

    /** Stops every probe; one in flight ends by its timeout and its result is dropped. On the supervisor loop. */
    @Override
    public void close() {
        closed = true;
        slots.values().forEach(EndpointProbes::cancel);
        slots.clear();
    }
}
