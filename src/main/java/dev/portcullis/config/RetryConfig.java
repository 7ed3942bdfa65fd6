package dev.portcullis.config;

import java.time.Duration;
import java.util.Set;

/**
 * A route's {@code retry}: when a try fails, try again on another endpoint.
 *
 * @param attempts      tries in all, the first included (nginx's proxy_next_upstream_tries); 1..10
 * @param on            the conditions that allow another try
 * @param statuses      response statuses that allow another try (from {@code on}: 502, 5xx, ...)
 * @param perTryTimeout a try that has no response head by then counts as a timeout; null: only the route timeout
 * @param budgetPercent retries in the last 10 s stay under this share of requests (at least 3 are allowed)
 * @param backoffBase   first pause before a retry; doubles each time, with full jitter, up to {@code backoffMax}
 * @param nonIdempotent POST, PATCH and other non-idempotent methods may be retried too
 */
public record RetryConfig(int attempts, Set<Condition> on, Set<Integer> statuses, Duration perTryTimeout,
                          double budgetPercent, Duration backoffBase, Duration backoffMax, boolean nonIdempotent) {

    public enum Condition {
        /** The endpoint refused or did not answer the connect. */
        CONNECT_FAILURE("connect_failure"),
        /** The connection broke before a response head. */
        RESET("reset"),
        /** No response head within the per-try timeout. */
        TIMEOUT("timeout");

        public final String key;

        Condition(String key) {
            this.key = key;
        }
    }

    /**
     * Without a {@code retry} key: connect failures move on to the next endpoint (nothing was sent, as nginx's
     * default {@code proxy_next_upstream error}), nothing else is retried, and no budget applies.
     */
    public static final RetryConfig DEFAULT = new RetryConfig(0, Set.of(Condition.CONNECT_FAILURE), Set.of(), null,
            100, Duration.ZERO, Duration.ZERO, false);

    public boolean retriesStatus(int status) {
        return statuses.contains(status);
    }

    /** The default: any endpoint may be tried once on a connect failure. */
    public boolean isDefault() {
        return attempts == 0;
    }
}
