package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;

/**
 * One balancing decision over a fixed set of endpoints, built by a {@link Balancer} each time the set changes
 * (health, drain, weights), never per request. Lock-free and allocation-free: it runs on every event loop at once.
 */
public interface Picker {

    /** @return an endpoint of the set, or null when the set is empty */
    Endpoint pick(PickContext ctx);
}
