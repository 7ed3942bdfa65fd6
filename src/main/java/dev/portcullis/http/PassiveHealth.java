package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.PeakEwma;

/**
 * What the outcome of one try tells the upstream about its endpoint: outlier detection counts failures in a row
 * (connect errors, resets, timeouts, 5xx heads) and the peak-EWMA estimate gets the time to the response head, or a
 * penalty for a failure, so that latency-aware balancing avoids endpoints that fail fast as well as slow ones.
 */
final class PassiveHealth {
    private PassiveHealth() {}

    static void failed(Upstream upstream, Endpoint e) {
        e.state().observeLatency(System.nanoTime(), PeakEwma.FAILURE_PENALTY_NANOS, PeakEwma.DECAY_NANOS);
        upstream.reportFailure(e);
    }

    /** A final response head arrived, {@code tryStartNanos} after the try began (connect included). */
    static void answered(Upstream upstream, Endpoint e, int status, long tryStartNanos) {
        if (status >= 500) {
            failed(upstream, e);
            return;
        }
        long now = System.nanoTime();
        e.state().observeLatency(now, now - tryStartNanos, PeakEwma.DECAY_NANOS);
        upstream.reportSuccess(e);
    }
}
