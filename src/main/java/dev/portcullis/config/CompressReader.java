package dev.portcullis.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/** A route's {@code compress}: true, false, or a mapping of algorithms, min_size and types. */
final class CompressReader {
    private CompressReader() {
    }

    /** @return null when absent or false */
    static CompressConfig read(Section route) {
        if (!route.has("compress")) {
            return null;
        }
        if (route.node("compress") instanceof ScalarNode) {
            return route.bool("compress", false) ? CompressConfig.DEFAULTS : null;
        }
        Section c = route.section("compress");
        c.keys(List.of("algorithms", "min_size", "types"), List.of());
        List<CompressConfig.Algorithm> algorithms = new ArrayList<>();
        for (Section.Item item : c.items("algorithms", true)) {
            CompressConfig.Algorithm a = MatchReader.parse(c, item, "an algorithm", s -> {
                for (CompressConfig.Algorithm x : CompressConfig.Algorithm.values()) {
                    if (x.token().equals(s.trim().toLowerCase(Locale.ROOT))) {
                        return x;
                    }
                }
                throw new IllegalArgumentException("unknown algorithm '" + s + "'; expected br, zstd or gzip");
            });
            if (a != null && algorithms.contains(a)) {
                c.error("algorithms", "algorithm '" + a.token() + "' is listed twice");
            } else if (a != null) {
                algorithms.add(a);
            }
        }
        if (c.has("algorithms") && algorithms.isEmpty() && !c.hadUnsupported("algorithms")) {
            c.error("algorithms", "at least one algorithm is needed (or compress: false)");
        }
        long minSize = c.has("min_size") && "0".equals(c.string("min_size", "").trim()) ? 0
                : c.size("min_size", CompressConfig.DEFAULTS.minSize(), CacheReader.MAX_SIZE);
        List<String> types = new ArrayList<>();
        for (Section.Item item : c.items("types", true)) {
            String t = MatchReader.parse(c, item, "a media type", s -> {
                String v = s.trim().toLowerCase(Locale.ROOT);
                int slash = v.indexOf('/');
                if (slash <= 0 || slash == v.length() - 1 || !Values.isToken(v.substring(0, slash))
                        || !(v.substring(slash + 1).equals("*") || Values.isToken(v.substring(slash + 1)))) {
                    throw new IllegalArgumentException("invalid media type '" + s
                            + "'; expected type/subtype or type/*, such as text/* or application/json");
                }
                return v;
            });
            if (t != null) {
                types.add(t);
            }
        }
        return new CompressConfig(algorithms.isEmpty() ? CompressConfig.DEFAULTS.algorithms() : List.copyOf(algorithms),
                minSize, types.isEmpty() ? CompressConfig.DEFAULTS.types() : List.copyOf(types));
    }
}
