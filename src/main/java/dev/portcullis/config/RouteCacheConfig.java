package dev.portcullis.config;

import java.util.List;

/**
 * A route's {@code cache}: {@code cache: ZONE}, or {@code cache: { zone, key: { headers, cookies, query } }}.
 *
 * @param zone the {@code caches} zone (checked to exist)
 * @param key  what besides the method-independent target (scheme, host, path, query) tells stored responses apart
 */
public record RouteCacheConfig(String zone, Key key) {
    /**
     * @param headers request header values added to the key (names, lower case)
     * @param cookies request cookie values added to the key
     * @param query   how the query string enters the key
     * @param queryParams with {@link Query#ONLY}: the parameters kept; with {@link Query#IGNORE_PARAMS}: the ones dropped
     */
    public record Key(List<String> headers, List<String> cookies, Query query, List<String> queryParams) {
        public static final Key DEFAULT = new Key(List.of(), List.of(), Query.AS_IS, List.of());
    }

    /** {@code as_is} (default), {@code sorted} (parameters in name order), {@code ignore} (no query), {@code only: [..]}, {@code ignore_params: [..]}. */
    public enum Query { AS_IS, SORTED, IGNORE, ONLY, IGNORE_PARAMS }
}
