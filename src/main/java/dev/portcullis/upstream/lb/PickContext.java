package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;

/**
 * What a balancer may ask about the request it chooses for. Implemented by the request's own state object (no
 * allocation per pick); the hash is worked out only when a hashing balancer asks for it.
 */
public interface PickContext {

    /** The consistent-hash key of the request (from {@code hash_on}). */
    long hashKey();

    /** Whether an earlier try of this request already went to {@code e}. */
    boolean tried(Endpoint e);
}
