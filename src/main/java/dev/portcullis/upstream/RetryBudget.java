package dev.portcullis.upstream;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Requests and retries of one upstream over the last {@value #WINDOW_SECONDS} seconds, in one-second buckets, so a
 * retry is allowed only while retries stay under a share of requests: a failing upstream sees at most that much
 * extra load, not attempts × the load. A few retries ({@value #MIN_RETRIES}) are always allowed so that a quiet
 * upstream can still retry.
 */
public final class RetryBudget {
    static final int WINDOW_SECONDS = 10;
    static final int MIN_RETRIES = 3;
    /** Per bucket: [second, requests, retries]. */
    private final AtomicLongArray buckets = new AtomicLongArray(WINDOW_SECONDS * 3);

    /** Counts a request's first try. */
    public void request() {
        add(1, System.nanoTime());
    }

    /**
     * Checks and counts under one lock, so that event loops retrying at once cannot all pass the same check and
     * overshoot the budget. Only retries take it (first tries count lock-free), and retries are the exception.
     *
     * @param percent the route's budget, 0..100
     * @return true when a retry is allowed now (it is then counted)
     */
    public synchronized boolean tryRetry(double percent) {
        long now = System.nanoTime();
        long sec = now / 1_000_000_000L;
        long requests = 0;
        long retries = 0;
        for (int b = 0; b < WINDOW_SECONDS; b++) {
            long s = buckets.get(b * 3);
            if (sec - s < WINDOW_SECONDS) {
                requests += buckets.get(b * 3 + 1);
                retries += buckets.get(b * 3 + 2);
            }
        }
        if (retries >= MIN_RETRIES && retries + 1 > requests * percent / 100.0) {
            return false;
        }
        add(2, now);
        return true;
    }

    private void add(int field, long nanos) {
        long sec = nanos / 1_000_000_000L;
        int b = (int) (sec % WINDOW_SECONDS) * 3;
        long s = buckets.get(b);
        if (s != sec && buckets.compareAndSet(b, s, sec)) {
            // this second's bucket was last used WINDOW_SECONDS ago or more: start it again
            buckets.set(b + 1, 0);
            buckets.set(b + 2, 0);
        }
        buckets.incrementAndGet(b + field);
    }
}
