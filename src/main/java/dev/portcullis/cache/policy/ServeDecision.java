package dev.portcullis.cache.policy;

/**
 * What to do with a request for which a stored response was selected ({@link ServePolicy#decide}). Each carries the
 * {@code Cache-Status} pieces: {@link #hit()} or a {@link #fwd()} reason, and a {@link #detail()} token.
 */
public sealed interface ServeDecision {
    /** Answered from the cache (possibly stale) without waiting for the origin. */
    boolean hit();

    /** Why the request goes forward; null for hits. */
    CacheStatus.Fwd fwd();

    /** A token for logs and {@code Cache-Status; detail}. */
    String detail();

    /** Fresh and usable: serve it. */
    record Fresh() implements ServeDecision {
        public boolean hit() {
            return true;
        }

        public CacheStatus.Fwd fwd() {
            return null;
        }

        public String detail() {
            return "fresh";
        }
    }

    /**
     * Stale but servable now: {@code max-stale} from the client, or the response's {@code stale-while-revalidate}
     * window, in which case {@link #revalidate()} asks for one background refresh.
     */
    record Stale(boolean revalidate) implements ServeDecision {
        public boolean hit() {
            return true;
        }

        public CacheStatus.Fwd fwd() {
            return null;
        }

        public String detail() {
            return revalidate ? "stale-while-revalidate" : "max-stale";
        }
    }

    /**
     * Validate with the origin first (a conditional request when the stored response has validators, see
     * {@link Validation}); if the origin fails, {@link ServePolicy#staleIfError} says whether the stored response
     * may answer instead.
     */
    record Validate(CacheStatus.Fwd fwd, String detail) implements ServeDecision {
        public boolean hit() {
            return false;
        }
    }

    /** Do not use the stored response for this request: forward it unconditionally. */
    record Forward(CacheStatus.Fwd fwd, String detail) implements ServeDecision {
        public boolean hit() {
            return false;
        }
    }

    /** {@code only-if-cached} and nothing usable: answer 504 (RFC 9111 section 5.2.1.7) without going forward. */
    record GatewayTimeout(String detail) implements ServeDecision {
        public boolean hit() {
            return false;
        }

        public CacheStatus.Fwd fwd() {
            return null;
        }
    }
}
