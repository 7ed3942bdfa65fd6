package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;

/**
 * Latency-aware (Finagle's peak EWMA): each endpoint's cost is its peak-EWMA response time × (its requests in flight
 * relative to its weight + 1); of two endpoints drawn at random (see {@link TwoChoices}) the cheaper wins, the first
 * drawn on a tie. A slow answer raises the estimate at once; faster ones pull it down, and without answers it decays
 * toward zero with a time constant of {@link #DECAY_NANOS}, so an endpoint that was slow is tried again. A failed
 * try counts as an answer taking {@link #FAILURE_PENALTY_NANOS}, so an endpoint that fails fast does not attract
 * traffic. Weights shape the draw; in flight relative to weight keeps a heavier endpoint's queue from counting
 * against it as much.
 */
public final class PeakEwma implements Balancer {
    /** Time constant of the decay. */
    public static final long DECAY_NANOS = 10_000_000_000L;
    /** What a failed request counts as. */
    public static final long FAILURE_PENALTY_NANOS = 1_000_000_000L;
    /** An idle endpoint with no estimate yet is assumed this fast, so new endpoints get tried. */
    static final long DEFAULT_NANOS = 1_000_000L;

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int n = endpoints.length;
        // In flight per unit of weight, where the average weight is one unit: equal weights give Finagle's cost.
        double mean = (double) Weights.total(weights) / n;
        double[] perRequest = new double[n];
        for (int i = 0; i < n; i++) {
            perRequest[i] = mean / weights[i];
        }
        TwoChoices choices = new TwoChoices(weights);
        EndpointState[] states = Weights.states(endpoints);
        return ctx -> {
            long pair = choices.draw();
            int a = TwoChoices.first(pair);
            int b = TwoChoices.second(pair);
            if (a == b) {
                return endpoints[a];
            }
            long now = System.nanoTime();
            return cost(states[a], perRequest[a], now) <= cost(states[b], perRequest[b], now)
                    ? endpoints[a] : endpoints[b];
        };
    }

    static double cost(EndpointState s, double perRequest, long now) {
        long ewma = s.ewmaNanos(now, DECAY_NANOS);
        int inFlight = s.inFlight();
        if (ewma == 0) {
            // Never answered yet: as cheap as a fast endpoint while idle, but (as Finagle) one request at a time
            // until the first answer tells how fast it really is, so a new slow endpoint does not soak up a burst.
            ewma = inFlight == 0 ? DEFAULT_NANOS : FAILURE_PENALTY_NANOS;
        }
        return ewma * (inFlight * perRequest + 1);
    }

    /** Feeds the estimate: a response time, or a failure as {@link #FAILURE_PENALTY_NANOS} at least. */
    @Override
    public void observe(Endpoint e, long latencyNanos, boolean failed) {
        long sample = failed ? Math.max(latencyNanos, FAILURE_PENALTY_NANOS) : Math.max(1, latencyNanos);
        e.state().observeLatency(System.nanoTime(), sample, DECAY_NANOS);
    }
}
