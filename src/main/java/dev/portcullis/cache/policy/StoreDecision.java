package dev.portcullis.cache.policy;

import java.util.List;

/** Whether a response may be stored ({@link Storability#decide}); the reason is a token for logs and Cache-Status. */
public sealed interface StoreDecision {
    /** A short token: {@code stored}, or why not ({@code no-store}, {@code private}, {@code set-cookie}, ...). */
    String reason();

    /**
     * Store it.
     *
     * @param meta        what serving decisions need, computed once
     * @param stripFields header names (lower case) to leave out of the stored copy: {@code Set-Cookie}, the names of
     *                    {@code private="..."} and {@code no-cache="..."}, and the hop-by-hop fields of RFC 9111
     *                    section 3.1; the response being forwarded to the client right now keeps them
     */
    record Store(StoredMeta meta, List<String> stripFields) implements StoreDecision {
        @Override
        public String reason() {
            return "stored";
        }
    }

    /** Do not store; forward the response as it is. */
    record DontStore(String reason) implements StoreDecision {
    }
}
