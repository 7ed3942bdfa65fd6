package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Latency-aware (Finagle's peak EWMA): each endpoint's cost is its decayed peak-EWMA response time × (requests in
 * flight + 1) / weight; two random endpoints are compared and the cheaper wins. A slow answer raises the estimate
 * at once; it decays over {@link #DECAY_NANOS} without answers, so a recovered endpoint is tried again. Failures
 * are recorded as {@link #FAILURE_PENALTY_NANOS} by the caller.
 */
public final class PeakEwma implements Balancer {
    /** Time constant of the decay. */
    public static final long DECAY_NANOS = 10_000_000_000L;
    /** What a failed request counts as. */
    public static final long FAILURE_PENALTY_NANOS = 1_000_000_000L;
    /** An endpoint with no estimate yet is assumed this fast, so new endpoints get tried. */
    static final long DEFAULT_NANOS = 1_000_000L;

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        if (endpoints.length == 1) {
            return ctx -> endpoints[0];
        }
        int n = endpoints.length;
        return ctx -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int a = r.nextInt(n);
            int b = r.nextInt(n - 1);
            if (b >= a) {
                b++;
            }
            long now = System.nanoTime();
            return cost(endpoints[a], weights[a], now) <= cost(endpoints[b], weights[b], now) ? endpoints[a] : endpoints[b];
        };
    }

    static double cost(Endpoint e, int weight, long now) {
        long ewma = e.state().ewmaNanos(now, DECAY_NANOS);
        if (ewma == 0) {
            ewma = DEFAULT_NANOS;
        }
        return (double) ewma * (e.state().inFlight() + 1) / weight;
    }
}
