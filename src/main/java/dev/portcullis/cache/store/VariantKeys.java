package dev.portcullis.cache.store;

/**
 * Computes a request's variant key from the {@code Vary} of the responses stored for its primary key (RFC 9111
 * §4.1): the integration builds it from the request's headers; the store stays free of HTTP policy. It must give
 * the same key the stored response was given for a request that matches it, and "" for {@code vary} "" is usual.
 * It is called on the caller's own executor (for a follower: when the leader's head arrives), never elsewhere.
 */
@FunctionalInterface
public interface VariantKeys {
    /** @param vary the stored responses' {@code Vary} values joined with ", "; "" when none is stored or none varies */
    String variantKey(String vary);

    /** For responses that never vary. */
    VariantKeys NONE = vary -> "";
}
