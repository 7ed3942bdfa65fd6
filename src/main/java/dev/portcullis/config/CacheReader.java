package dev.portcullis.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/** The top-level {@code caches} zones and a route's {@code cache}. */
final class CacheReader {
    static final long MAX_SIZE = 1L << 50;

    private CacheReader() {
    }

    /** @param redis whether the config has a top-level {@code redis} ({@code shared: redis} needs it) */
    static Map<String, CacheZoneConfig> zones(Section caches, Errors errors, boolean redis) {
        Map<String, CacheZoneConfig> zones = new LinkedHashMap<>();
        Map<Path, String> diskOwners = new LinkedHashMap<>();
        for (Section.Entry e : caches.entries()) {
            if (!Values.isName(e.key())) {
                errors.at(e.keyNode(), e.path(), "invalid cache zone name '" + e.key()
                        + "'; use letters, digits, '_', '.' and '-'");
                continue;
            }
            Section z = Section.of(errors, e.value(), e.path(), e.keyNode());
            // every tier is read now
            z.keys(List.of("memory", "max_object_size", "disk", "shared", "shared_max_object_size"), List.of());
            long memory = z.size("memory", CacheZoneConfig.DEFAULT_MEMORY, MAX_SIZE);
            long maxObject = z.size("max_object_size", Math.min(CacheZoneConfig.DEFAULT_MAX_OBJECT_SIZE, memory),
                    MAX_SIZE);
            if (maxObject > memory && z.has("max_object_size")) {
                z.error("max_object_size", "max_object_size (" + maxObject + " bytes) is larger than the memory tier ("
                        + memory + " bytes); an object must fit in memory while it is filled");
            }
            CacheZoneConfig.Disk disk = z.has("disk") ? disk(z, e.key(), maxObject, diskOwners) : null;
            zones.put(e.key(), new CacheZoneConfig(e.key(), memory, disk, maxObject, shared(z, maxObject, redis)));
        }
        return Collections.unmodifiableMap(zones);
    }

    /**
     * {@code disk: { path, size }}. The directory is created when the zone is built (here it must be one, or be
     * creatable, and be writable); no two zones may use one directory, or one inside another's.
     */
    private static CacheZoneConfig.Disk disk(Section z, String zone, long maxObject, Map<Path, String> owners) {
        Section d = z.section("disk");
        d.keys(List.of("path", "size"), List.of());
        if (!d.has("path")) {
            d.missing("path");
        }
        if (!d.has("size")) {
            d.missing("size");
        }
        Path path = writableDirectory(d, "path");
        long size = d.size("size", 0, MAX_SIZE);
        if (size > 0 && size < maxObject) {
            d.error("size", "the disk tier (" + size + " bytes) is smaller than max_object_size (" + maxObject
                    + " bytes); give it room for many objects");
            size = 0;
        }
        if (path != null) {
            for (Map.Entry<Path, String> o : owners.entrySet()) {
                Path other = o.getKey();
                if (other.equals(path)) {
                    d.error("path", "the directory " + path + " is already the disk tier of cache zone '"
                            + o.getValue() + "'; each zone needs its own directory");
                    return null;
                }
                if (path.startsWith(other) || other.startsWith(path)) {
                    d.error("path", "the directory " + path + " and the disk tier of cache zone '" + o.getValue()
                            + "' (" + other + ") are inside one another; give each zone its own directory");
                    return null;
                }
            }
            owners.put(path, zone);
        }
        return path != null && size > 0 ? new CacheZoneConfig.Disk(path, size, z.line("disk")) : null;
    }

    /** A directory that exists and is writable, or whose nearest existing parent is one (it is created later). */
    private static Path writableDirectory(Section d, String key) {
        Path path = d.directory(key);
        if (path == null) {
            return null;
        }
        try {
            path = path.toRealPath(); // two spellings of one directory (a symbolic link) are one directory
        } catch (java.io.IOException notThereYet) {
            // created when the zone is built; checked through its parent below
        }
        Path existing = path;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing)) {
            d.error(key, "cannot create the directory " + path + ": " + (existing == null ? "no part of it exists"
                    : existing + " is not a directory"));
            return null;
        }
        if (!Files.isWritable(existing)) {
            d.error(key, (existing.equals(path) ? "the directory " + path : "cannot create the directory " + path
                    + ": " + existing) + " is not writable by this process; check its owner and permissions");
            return null;
        }
        return path;
    }

    /** {@code shared: redis} and {@code shared_max_object_size}; null when the zone has no shared tier. */
    private static CacheZoneConfig.Shared shared(Section z, long maxObject, boolean redis) {
        if (!z.has("shared")) {
            if (z.has("shared_max_object_size")) {
                z.error("shared_max_object_size", "shared_max_object_size needs 'shared: redis'");
            }
            return null;
        }
        String kind = z.parse("shared", null, "redis", s -> {
            if (!s.trim().equals("redis")) {
                throw new IllegalArgumentException("invalid shared tier '" + s + "'; expected redis");
            }
            return "redis";
        });
        if (kind == null) {
            return null;
        }
        if (!redis) {
            z.error("shared", "'shared: redis' needs the top-level 'redis' section, such as "
                    + "redis: { url: redis://127.0.0.1:6379 }");
            return null;
        }
        long max = z.size("shared_max_object_size",
                Math.min(maxObject, CacheZoneConfig.DEFAULT_SHARED_MAX_OBJECT_SIZE), MAX_SIZE);
        if (max > maxObject) {
            z.error("shared_max_object_size", "shared_max_object_size (" + max + " bytes) is larger than "
                    + "max_object_size (" + maxObject + " bytes); nothing that large is stored");
        }
        return new CacheZoneConfig.Shared(Math.min(max, maxObject));
    }

    /** {@code cache: ZONE} or {@code cache: { zone, key }}; null when absent or {@code cache: off}. */
    static RouteCacheConfig route(Section route, Semantics semantics) {
        if (!route.has("cache")) {
            return null;
        }
        if (route.node("cache") instanceof ScalarNode) {
            String zone = route.string("cache", null);
            if (zone == null || zone.equals("off")) {
                return null;
            }
            semantics.cacheRef(zone, route.line("cache"), route.path("cache"));
            return new RouteCacheConfig(zone, RouteCacheConfig.Key.DEFAULT);
        }
        Section c = route.section("cache");
        c.keys(List.of("zone", "key"), List.of());
        String zone = c.requiredString("zone");
        if (zone == null) {
            return null;
        }
        semantics.cacheRef(zone, c.line("zone"), c.path("zone"));
        return new RouteCacheConfig(zone, key(c));
    }

    private static RouteCacheConfig.Key key(Section c) {
        if (!c.has("key")) {
            return RouteCacheConfig.Key.DEFAULT;
        }
        Section k = c.section("key");
        k.keys(List.of("headers", "cookies", "query"), List.of());
        List<String> headers = names(k, "headers", true);
        List<String> cookies = names(k, "cookies", false);
        RouteCacheConfig.Query query = RouteCacheConfig.Query.AS_IS;
        List<String> params = List.of();
        if (k.node("query") instanceof ScalarNode) {
            query = k.parse("query", RouteCacheConfig.Query.AS_IS, "as_is, sorted or ignore", s -> switch (s.trim()) {
                case "as_is" -> RouteCacheConfig.Query.AS_IS;
                case "sorted" -> RouteCacheConfig.Query.SORTED;
                case "ignore" -> RouteCacheConfig.Query.IGNORE;
                default -> throw new IllegalArgumentException("invalid query '" + s
                        + "'; expected as_is, sorted, ignore, { only: [names] } or { ignore_params: [names] }");
            });
        } else if (k.has("query")) {
            Section q = k.section("query");
            q.keys(List.of("only", "ignore_params"), List.of());
            if (q.has("only") == q.has("ignore_params")) {
                k.error("query", "give one of 'only' or 'ignore_params'");
            } else if (q.has("only")) {
                query = RouteCacheConfig.Query.ONLY;
                params = names(q, "only", false);
            } else {
                query = RouteCacheConfig.Query.IGNORE_PARAMS;
                params = names(q, "ignore_params", false);
            }
        }
        return new RouteCacheConfig.Key(headers, cookies, query, params);
    }

    private static List<String> names(Section s, String key, boolean headerNames) {
        List<String> out = new ArrayList<>();
        for (Section.Item item : s.items(key, true)) {
            String name = MatchReader.parse(s, item, headerNames ? "a header name" : "a name", v -> {
                if (!Values.isToken(v)) {
                    throw new IllegalArgumentException("invalid name '" + v + "'; expected an RFC 9110 token");
                }
                return headerNames ? v.toLowerCase(Locale.ROOT) : v;
            });
            if (name != null) {
                out.add(name);
            }
        }
        return List.copyOf(out);
    }
}
