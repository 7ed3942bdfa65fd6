package dev.portcullis.upstream.lb;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.Endpoint;

/**
 * A balancing algorithm of one upstream. {@link #build} turns the endpoints that may take traffic now, with their
 * effective weights, into a {@link Picker}; anything that must outlive a rebuild (a round-robin cursor) is kept
 * in the balancer.
 */
public interface Balancer {

    /**
     * @param endpoints the endpoints to choose among, at least two (the upstream needs no balancer for one)
     * @param weights   their effective weights, each above 0 (config weight × agent percentage × slow-start ramp,
     *                  scaled by {@link Weights#SCALE})
     */
    Picker build(Endpoint[] endpoints, int[] weights);

    /**
     * How one try went: the time to the response head, or a failure (connect error, reset, 5xx). Only
     * latency-aware balancers keep it; called on the event loop, so it must be cheap and lock-free.
     */
    default void observe(Endpoint e, long latencyNanos, boolean failed) {}

    static Balancer of(UpstreamConfig config) {
        return switch (config.balance()) {
            case ROUND_ROBIN -> new RoundRobin();
            case LEAST_CONNECTIONS -> new LeastConnections();
            case RANDOM -> new RandomBalancer();
            case POWER_OF_TWO -> new PowerOfTwo();
            case CONSISTENT_HASH -> config.hashMethod() == UpstreamConfig.HashMethod.RING
                    ? new RingHash() : new Maglev();
            case PEAK_EWMA -> new PeakEwma();
        };
    }
}
