package dev.portcullis.http;

import dev.portcullis.config.RetryConfig;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.ThreadLocalRandom;

/** The rules of a route's {@code retry} that do not depend on a request's state; {@link UpstreamLeg} applies them. */
final class Retries {
    /** Why a try failed before its response reached the client. */
    enum Failure {
        /** No connection: nothing reached the endpoint. */
        CONNECT,
        /** The connection broke before a response head. */
        RESET,
        /** No response head within {@code per_try_timeout}. */
        TIMEOUT,
        /** A response head with a status the route retries on. */
        STATUS
    }

    private Retries() {}

    /** RFC 9110 §9.2.2: the methods whose repetition has the same effect as one request. */
    static boolean idempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }

    /** Whether the route's {@code on} list names this failure. */
    static boolean on(RetryConfig r, Failure f, int status) {
        return switch (f) {
            case CONNECT -> r.on().contains(RetryConfig.Condition.CONNECT_FAILURE);
            case RESET -> r.on().contains(RetryConfig.Condition.RESET);
            case TIMEOUT -> r.on().contains(RetryConfig.Condition.TIMEOUT);
            case STATUS -> status >= 400 && r.retriesStatus(status); // (no boxing for the usual 2xx/3xx)
        };
    }

    /**
     * The pause before retry number {@code retry} (1 for the first): "full jitter", uniform in
     * [0, min(max, base × 2^(retry-1))], so that clients that failed together do not retry together.
     */
    static long backoffNanos(RetryConfig r, int retry) {
        long base = r.backoffBase().toNanos();
        long max = r.backoffMax().toNanos();
        if (base <= 0 || max <= 0) {
            return 0;
        }
        int shift = Math.min(Math.max(retry - 1, 0), 62);
        long cap = base > (max >> shift) ? max : base << shift;
        return ThreadLocalRandom.current().nextLong(cap + 1);
    }
}
