package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;

/**
 * What the outcome of one try tells the upstream about its endpoint: outlier detection counts failures in a row
 * (connect errors, resets, timeouts, 5xx heads) and the balancer learns the time to the response head, or a failure
 * (peak EWMA counts it as a penalty, so latency-aware balancing avoids endpoints that fail fast as well as slow
 * ones; the other balancers ignore it).
 */
final class PassiveHealth {
    private PassiveHealth() {}

    static void failed(Upstream upstream, Endpoint e) {
        upstream.observe(e, 0, true);
        upstream.reportFailure(e);
    }

    /** A final response head arrived, {@code tryStartNanos} after the try began (connect included). */
    static void answered(Upstream upstream, Endpoint e, int status, long tryStartNanos) {
        if (status >= 500) {
            failed(upstream, e);
            return;
        }
        upstream.observe(e, System.nanoTime() - tryStartNanos, false);
        upstream.reportSuccess(e);
    }
}
