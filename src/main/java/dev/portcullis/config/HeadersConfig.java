package dev.portcullis.config;

import java.util.List;
import java.util.Map;

/** {@code routes[].headers}: request and response operations, values are placeholder templates. */
public record HeadersConfig(HeaderOps request, HeaderOps response) {

    public static final HeadersConfig NONE = new HeadersConfig(HeaderOps.NONE, HeaderOps.NONE);

    /** Applied in this order: remove, set, add. Maps keep file order. */
    public record HeaderOps(Map<String, String> set, Map<String, String> add, List<String> remove) {
        public static final HeaderOps NONE = new HeaderOps(Map.of(), Map.of(), List.of());

        public boolean isEmpty() {
            return set.isEmpty() && add.isEmpty() && remove.isEmpty();
        }
    }
}
