package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;

/** Chooses an endpoint for one attempt. Implementations are lock-free: they run on every event loop at once. */
public interface LoadBalancer {

    /**
     * @param attempt 0 for the first try of a request; higher when an earlier endpoint could not be connected,
     *                so the balancer hands out a different endpoint
     * @return null when there is no endpoint left to try
     */
    Endpoint pick(long ticket, int attempt);

    /** A ticket identifies one request's sequence of attempts. */
    long nextTicket();
}
