package dev.portcullis.cache.store;

import java.util.concurrent.CompletableFuture;

/**
 * A slower tier behind a zone's memory tier ({@code disk}, {@code shared: redis}). The zone consults its lower tiers
 * in order on a memory miss, writes every response it stores to each of them, and passes purges on. A tier never
 * blocks the caller: IO runs on the tier's own threads (or client), and results come back as futures.
 *
 * <p>A tier must never hand out a corrupt or partial object: whatever it cannot verify it reports as absent (and
 * logs, and drops).
 */
public interface LowerTier extends AutoCloseable {
    /** "disk", "redis": for logs and metrics. */
    String kind();

    /**
     * Looks up the response stored for a request. Called on the request's event loop; the future may complete on
     * any thread.
     *
     * @param variants the request's variant keys; the tier may call it on any thread (it reads an immutable copy of
     *                 the request's headers)
     * @return a future of a complete, verified response carrying one reference for the caller (its body sealed,
     *         built with {@link StoredResponse#of}), or of null when the tier has none (or only an unusable one).
     *         It never completes exceptionally for a missing or damaged object
     */
    CompletableFuture<StoredResponse> load(String primaryKey, VariantKeys variants);

    /**
     * A complete response was stored in a higher tier (or freshened by a 304: then it replaces the stored one).
     * The tier takes its own reference ({@link StoredResponse#retain()}) for as long as it reads the body, and
     * releases it; it never blocks the caller.
     */
    void store(StoredResponse response);

    /** Removes every variant stored for the primary key; returns how many it removed as far as it knows at once. */
    int purgeKey(String primaryKey);

    /** Removes every object whose primary key starts with {@code prefix}. */
    int purgePrefix(String prefix);

    /** Removes every object tagged {@code tag}. */
    int purgeTag(String tag);

    /** The zone is closed (reload dropped it, or shutdown): finish or drop pending writes, free resources. */
    @Override
    void close();
}
