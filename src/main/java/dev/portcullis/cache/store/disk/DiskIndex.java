package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.CacheKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the disk tier holds, in memory: one {@link Entry} per file, by key; primary keys in order (prefix purges);
 * tag to entries (tag purges); the Vary of the latest object per primary key (lookups); the total bytes.
 *
 * <p>Entries are added by the tier's writer thread only, and removed by it or by a purge on any thread. Like the
 * memory tier's index, every change goes through the per-primary-key {@code compute}, and a removal names the exact
 * entry it means: a late removal never drops the entry that replaced it. Lookups read two concurrent maps, no lock.
 */
final class DiskIndex {
    /** One file: what lookups, purges and eviction need, without its head fields or body. */
    static final class Entry {
        final CacheKey key;
        /** Bytes the file takes (what the size bound counts). */
        final long size;
        final long bodyLength;
        final String vary;
        final List<String> tags;
        /** For least-recently-used eviction: {@link System#nanoTime()} of the last write or load. */
        volatile long lastUse;

        Entry(CacheKey key, long size, long bodyLength, String vary, List<String> tags, long lastUse) {
            this.key = key;
            this.size = size;
            this.bodyLength = bodyLength;
            this.vary = vary;
            this.tags = List.copyOf(tags);
            this.lastUse = lastUse;
        }

        /**
         * The file's name, computed when a file is touched (on the tier's threads), not kept: the index holds one
         * entry per object on disk, and 100 bytes less each is 100 MB less per million objects.
         */
        String name() {
            return DiskFiles.name(key);
        }

        @Override
        public String toString() {
            return "Entry(" + key + ", " + size + " bytes)";
        }
    }

    /** Immutable: replaced on every change, so readers never see it half-made. */
    private record Primary(String vary, Map<String, Entry> variants) {}

    private final ConcurrentHashMap<String, Primary> primaries = new ConcurrentHashMap<>();
    /** The same keys, sorted; changed only inside {@code primaries.compute} for that key. */
    private final ConcurrentSkipListSet<String> ordered = new ConcurrentSkipListSet<>();
    /** Inner maps are changed only inside {@code tags.compute} for their tag. */
    private final ConcurrentHashMap<String, Map<CacheKey, Entry>> tags = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong count = new AtomicLong();

    /** The Vary of the latest object stored for the primary key ("" when it does not vary), or null when none is. */
    String vary(String primaryKey) {
        Primary p = primaries.get(primaryKey);
        return p == null ? null : p.vary();
    }

    Entry get(CacheKey key) {
        Primary p = primaries.get(key.primary());
        return p == null ? null : p.variants().get(key.variant());
    }

    /** Adds or replaces the entry of {@code e.key}; returns the one it replaced, or null. */
    Entry put(Entry e) {
        CacheKey key = e.key;
        Entry[] replaced = {null};
        primaries.compute(key.primary(), (k, p) -> {
            Map<String, Entry> variants;
            if (p == null) {
                ordered.add(k);
                variants = Map.of(key.variant(), e);
            } else {
                replaced[0] = p.variants().get(key.variant());
                HashMap<String, Entry> copy = new HashMap<>(p.variants());
                copy.put(key.variant(), e);
                variants = Map.copyOf(copy);
            }
            bytes.addAndGet(e.size - (replaced[0] == null ? 0 : replaced[0].size));
            if (replaced[0] == null) {
                count.incrementAndGet();
            }
            return new Primary(e.vary, variants);
        });
        if (replaced[0] != null) {
            untag(replaced[0]);
        }
        for (String tag : e.tags) {
            tags.compute(tag, (t, m) -> {
                Map<CacheKey, Entry> map = m == null ? new HashMap<>(4) : m;
                map.put(key, e);
                return map;
            });
        }
        if (get(key) != e) {
            untag(e); // a purge removed it while it was being tagged: leave no tag pointing at it
        }
        return replaced[0];
    }

    /** Removes {@code e} if it is still the entry of its key; true when this call removed it. */
    boolean remove(Entry e) {
        CacheKey key = e.key;
        boolean[] removed = {false};
        primaries.computeIfPresent(key.primary(), (k, p) -> {
            if (p.variants().get(key.variant()) != e) {
                return p;
            }
            removed[0] = true;
            bytes.addAndGet(-e.size);
            count.decrementAndGet();
            if (p.variants().size() == 1) {
                ordered.remove(k);
                return null;
            }
            HashMap<String, Entry> copy = new HashMap<>(p.variants());
            copy.remove(key.variant());
            return new Primary(p.vary(), Map.copyOf(copy));
        });
        untag(e);
        return removed[0];
    }

    private void untag(Entry e) {
        for (String tag : e.tags) {
            tags.computeIfPresent(tag, (t, m) -> {
                m.remove(e.key, e);
                return m.isEmpty() ? null : m;
            });
        }
    }

    List<Entry> byPrimaryKey(String primaryKey) {
        Primary p = primaries.get(primaryKey);
        return p == null ? List.of() : new ArrayList<>(p.variants().values());
    }

    List<Entry> byPrefix(String prefix) {
        List<Entry> out = new ArrayList<>();
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

    List<Entry> byTag(String tag) {
        List<Entry> out = new ArrayList<>();
        tags.computeIfPresent(tag, (t, m) -> {
            out.addAll(m.values()); // copied under the tag's lock: the map is changed only there
            return m;
        });
        return out;
    }

    /** Every entry (eviction); a snapshot, not for the request path. */
    List<Entry> all() {
        List<Entry> out = new ArrayList<>((int) Math.min(Integer.MAX_VALUE - 8, Math.max(0, count.get())));
        for (Primary p : primaries.values()) {
            out.addAll(p.variants().values());
        }
        return out;
    }

    /**
     * Every entry, least recently used first (eviction); a snapshot. Each entry's last use is read once: loads
     * change it meanwhile, and a sort needs stable keys.
     */
    List<Entry> leastRecentlyUsedFirst() {
        record Aged(long lastUse, Entry entry) {}
        List<Aged> aged = new ArrayList<>();
        for (Entry e : all()) {
            aged.add(new Aged(e.lastUse, e));
        }
        aged.sort(java.util.Comparator.comparingLong(Aged::lastUse));
        List<Entry> out = new ArrayList<>(aged.size());
        for (Aged a : aged) {
            out.add(a.entry());
        }
        return out;
    }

    /** Bytes of the indexed files. */
    long bytes() {
        return bytes.get();
    }

    /** Indexed files. */
    long count() {
        return count.get();
    }

    /** Index sizes (tests: they return to zero when the tier empties). */
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
