package dev.portcullis.cache.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The zone's secondary indexes: primary key to its variants (and their Vary, for lookups), primary keys in order
 * (prefix purges) and tag to objects (tag purges). Each entry points at the exact object it was made for;
 * {@link #remove} drops an entry only while it still points at that object, so it can run late (after a newer
 * object took the key) without harm.
 *
 * <p>Writes happen on inserts and removals only, inside the maps' per-key {@code compute}; a lookup only reads
 * {@link #vary} (one concurrent-map get).
 */
final class PurgeIndex {
    /** Immutable: replaced on every change, so readers never see it half-made. */
    private record Primary(String vary, Map<String, StoredResponse> variants) {}

    private final ConcurrentHashMap<String, Primary> primaries = new ConcurrentHashMap<>();
    /** The same keys, sorted; changed only inside {@code primaries.compute} for that key. */
    private final ConcurrentSkipListSet<String> ordered = new ConcurrentSkipListSet<>();
    /** Inner maps are changed only inside {@code tags.compute} for their tag. */
    private final ConcurrentHashMap<String, Map<CacheKey, StoredResponse>> tags = new ConcurrentHashMap<>();

    /** Whether any response is stored for the primary key. */
    boolean has(String primaryKey) {
        return primaries.containsKey(primaryKey);
    }

    /** The Vary of the latest response stored for the key, "" when none. */
    String vary(String primaryKey) {
        Primary p = primaries.get(primaryKey);
        return p == null ? "" : p.vary();
    }

    void add(StoredResponse s) {
        CacheKey key = s.key();
        primaries.compute(key.primary(), (k, p) -> {
            Map<String, StoredResponse> variants;
            if (p == null) {
                ordered.add(k);
                variants = Map.of(key.variant(), s);
            } else {
                HashMap<String, StoredResponse> copy = new HashMap<>(p.variants());
                copy.put(key.variant(), s);
                variants = Map.copyOf(copy);
            }
            return new Primary(s.meta().vary(), variants);
        });
        for (String tag : s.meta().tags()) {
            tags.compute(tag, (t, m) -> {
                Map<CacheKey, StoredResponse> map = m == null ? new HashMap<>(4) : m;
                map.put(key, s);
                return map;
            });
        }
    }

    void remove(StoredResponse s) {
        CacheKey key = s.key();
        primaries.computeIfPresent(key.primary(), (k, p) -> {
            if (p.variants().get(key.variant()) != s) {
                return p;
            }
            if (p.variants().size() == 1) {
                ordered.remove(k);
                return null;
            }
            HashMap<String, StoredResponse> copy = new HashMap<>(p.variants());
            copy.remove(key.variant());
            return new Primary(p.vary(), Map.copyOf(copy));
        });
        for (String tag : s.meta().tags()) {
            tags.computeIfPresent(tag, (t, m) -> {
                m.remove(key, s);
                return m.isEmpty() ? null : m;
            });
        }
    }

    List<StoredResponse> byPrimaryKey(String primaryKey) {
        Primary p = primaries.get(primaryKey);
        return p == null ? List.of() : new ArrayList<>(p.variants().values());
    }

    List<StoredResponse> byPrefix(String prefix) {
        List<StoredResponse> out = new ArrayList<>();
        for (String k : ordered.tailSet(prefix, true)) {
            if (!k.startsWith(prefix)) {
                break;
            }
            Primary p = primaries.get(k);
            if (p != null) {
                out.addAll(p.variants().values());
            }
        }
        return out;
    }

    List<StoredResponse> byTag(String tag) {
        List<StoredResponse> out = new ArrayList<>();
        tags.computeIfPresent(tag, (t, m) -> {
            out.addAll(m.values()); // copied under the tag's lock: the map is changed only there
            return m;
        });
        return out;
    }

    /** Index sizes (tests: they must return to zero when the cache empties). */
    int primaryCount() {
        return primaries.size();
    }

    int orderedCount() {
        return ordered.size();
    }

    int tagCount() {
        return tags.size();
    }
}
