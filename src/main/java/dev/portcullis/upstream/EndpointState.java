package dev.portcullis.upstream;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What is known about one endpoint right now: active-check health, passive ejection, drain, the load its agent
 * reports, requests in flight, recent latency. Written by health checkers, the admin API and request outcomes;
 * read by {@link Upstream#refresh()} when it rebuilds the set balancers pick from, and by load-aware balancers on
 * the hot path (plain volatile and atomic reads, no locks). Kept across reloads for an unchanged address, so a
 * reload neither forgets a dead endpoint nor resets its counters.
 */
public final class EndpointState {
    /** Result of the active checks; true until they say otherwise (as HAProxy, nginx: traffic flows at start). */
    private volatile boolean healthy = true;
    /** Consecutive active-check results that disagree with {@link #healthy}. */
    private int checkStreak;
    /** Drained by the admin API: no new requests, those in flight finish. */
    private volatile boolean drained;
    /** Its agent said "down"/"maint"/"fail"/"stopped". */
    private volatile boolean agentDown;
    /** Its agent said "drain" (until it says "ready"); kept apart from the admin drain so neither undoes the other. */
    private volatile boolean agentDrained;
    /** Weight in percent that its agent reports; 100 without an agent. */
    private volatile int agentWeightPercent = 100;
    /** System.nanoTime() when it (re)joined the healthy set; slow start ramps from there. 0: long ago. */
    private volatile long readySinceNanos;
    /** Passive outlier detection. */
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private volatile long ejectedUntilNanos;
    private volatile long ejectedUntilEpochMillis;
    private final AtomicInteger ejections = new AtomicInteger();
    /** Requests in flight to this endpoint from every event loop. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Peak EWMA of response latency in nanoseconds, and when it was last updated. */
    private final AtomicLong ewmaNanos = new AtomicLong();
    private volatile long ewmaStampNanos;

    // ---- active health ----

    public boolean healthy() {
        return healthy;
    }

    /**
     * One active check result. The state flips after {@code threshold} results in a row that disagree with it.
     *
     * @return true when the state changed
     */
    public synchronized boolean checkResult(boolean ok, int healthyThreshold, int unhealthyThreshold) {
        if (ok == healthy) {
            checkStreak = 0;
            return false;
        }
        checkStreak++;
        if (checkStreak < (ok ? healthyThreshold : unhealthyThreshold)) {
            return false;
        }
        checkStreak = 0;
        healthy = ok;
        if (ok) {
            readySinceNanos = System.nanoTime();
        }
        return true;
    }

    // ---- drain and agent ----

    public boolean drained() {
        return drained;
    }

    public void drained(boolean value) {
        drained = value;
    }

    /**
     * No new requests, not even in panic or as a retry's last resort: drained by the admin API, or by its agent
     * (the word "drain", a weight of 0% as HAProxy reads it, or down/maint/stopped/fail). Requests in flight finish.
     */
    public boolean refusesNewRequests() {
        return drained || agentDrained || agentDown || agentWeightPercent == 0;
    }

    public boolean agentDrained() {
        return agentDrained;
    }

    /** @return true when it changed */
    public boolean agentDrained(boolean value) {
        boolean changed = agentDrained != value;
        agentDrained = value;
        return changed;
    }

    public boolean agentDown() {
        return agentDown;
    }

    /** @return true when the up/down state changed */
    public boolean agentDown(boolean value) {
        boolean changed = agentDown != value;
        agentDown = value;
        if (changed && !value) {
            readySinceNanos = System.nanoTime();
        }
        return changed;
    }

    public int agentWeightPercent() {
        return agentWeightPercent;
    }

    /** @return true when it changed */
    public boolean agentWeightPercent(int percent) {
        int p = Math.max(0, Math.min(100_000, percent));
        boolean changed = p != agentWeightPercent;
        agentWeightPercent = p;
        return changed;
    }

    public long readySinceNanos() {
        return readySinceNanos;
    }

    /** A new endpoint (discovered, or added by a reload) ramps up under slow start as a recovered one does. */
    public void markNew() {
        readySinceNanos = System.nanoTime();
    }

    // ---- passive outlier detection ----

    /** @return the failures in a row so far, this one included */
    public int failure() {
        return consecutiveFailures.incrementAndGet();
    }

    public void success() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    public boolean ejected(long nowNanos) {
        long until = ejectedUntilNanos;
        return until != 0 && nowNanos - until < 0;
    }

    /** Ejects for {@code baseNanos} × the number of times it was ejected before, this time included. */
    public void eject(long nowNanos, long baseNanos) {
        int times = ejections.incrementAndGet();
        long nanos = baseNanos * Math.min(times, 64);
        ejectedUntilNanos = nowNanos + nanos;
        ejectedUntilEpochMillis = System.currentTimeMillis() + nanos / 1_000_000;
        consecutiveFailures.set(0);
    }

    /** The ejection time is over: it takes traffic again (and ramps up under slow start). */
    public void unEject() {
        ejectedUntilNanos = 0;
        ejectedUntilEpochMillis = 0;
        readySinceNanos = System.nanoTime();
    }

    /** Set while ejected: {@link #ejected} may already be over time but not yet returned by the supervisor. */
    public boolean ejectionPending() {
        return ejectedUntilNanos != 0;
    }

    public long ejectedUntilNanos() {
        return ejectedUntilNanos;
    }

    /** 0 when not ejected. */
    public long ejectedUntilEpochMillis() {
        return ejectedUntilEpochMillis;
    }

    public int ejections() {
        return ejections.get();
    }

    // ---- load ----

    public int inFlight() {
        return inFlight.get();
    }

    public void requestStarted() {
        inFlight.incrementAndGet();
    }

    public void requestFinished() {
        inFlight.decrementAndGet();
    }

    /** The peak-EWMA latency estimate, decayed to now: a slow answer raises it at once, fast ones lower it slowly. */
    public long ewmaNanos(long nowNanos, long decayNanos) {
        long ewma = ewmaNanos.get();
        long age = nowNanos - ewmaStampNanos;
        if (age <= 0 || ewma == 0) {
            return ewma;
        }
        return (long) (ewma * Math.exp(-(double) age / decayNanos));
    }

    /** Records one response time (errors are recorded with a penalty by the caller). */
    public void observeLatency(long nowNanos, long latencyNanos, long decayNanos) {
        long current = ewmaNanos(nowNanos, decayNanos);
        long next;
        if (latencyNanos > current) {
            next = latencyNanos; // peak: jump up at once
        } else {
            long age = Math.max(0, nowNanos - ewmaStampNanos);
            double w = Math.exp(-(double) age / decayNanos);
            next = (long) (current * w + latencyNanos * (1 - w));
        }
        ewmaNanos.set(Math.max(1, next));
        ewmaStampNanos = nowNanos;
    }
}
