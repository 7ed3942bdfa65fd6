package dev.portcullis.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The top-level {@code redis} section. Errors never show a URL's password. */
final class RedisReader {
    private RedisReader() {
    }

    /** @return null when the config has no {@code redis} (or an empty one that is already reported) */
    static RedisConfig read(Section top) {
        if (!top.has("redis")) {
            return null;
        }
        Section r = top.section("redis");
        r.keys(List.of("url", "cluster", "timeout"), List.of());
        Duration timeout = r.duration("timeout", RedisConfig.DEFAULT_TIMEOUT, false);
        if (r.has("url") && r.has("cluster")) {
            r.error("cluster", "give either 'url' (one server) or 'cluster' (the seed nodes of a Redis Cluster), "
                    + "not both");
            return null;
        }
        if (r.has("url")) {
            String url = r.parse("url", null, "a redis:// URL", s -> url(s, false));
            return url == null ? null : new RedisConfig(List.of(url), false, timeout);
        }
        if (r.has("cluster")) {
            List<String> urls = new ArrayList<>();
            List<Section.Item> items = r.items("cluster", true);
            boolean bad = false;
            for (Section.Item item : items) {
                String url = MatchReader.parse(r, item, "a redis:// URL", s -> url(s, true));
                bad |= url == null;
                if (url != null) {
                    urls.add(url);
                }
            }
            if (items.isEmpty() && r.node("cluster") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode) {
                r.error("cluster", "the cluster list is empty; give at least one seed node, such as "
                        + "[redis://10.0.0.1:7000]");
            }
            return bad || urls.isEmpty() ? null : new RedisConfig(urls, true, timeout);
        }
        r.missing("url");
        return null;
    }

    /**
     * Checks one URL: {@code redis://[[user]:password@]host[:port][/database]} or {@code rediss://} for TLS.
     *
     * @throws IllegalArgumentException with a message that shows the URL without its password
     */
    static String url(String raw, boolean cluster) {
        String s = raw.trim();
        String shown = "'" + RedisConfig.redact(s) + "'";
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid Redis URL " + shown + "; expected redis://host:port");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("redis") && !scheme.equals("rediss")) {
            throw new IllegalArgumentException("invalid Redis URL " + shown + ": unsupported scheme"
                    + (scheme.isEmpty() ? "" : " '" + scheme + "'")
                    + "; expected redis://host:port (or rediss:// for TLS)");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("invalid Redis URL " + shown + ": no host; expected "
                    + scheme + "://host:port");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("invalid Redis URL " + shown + ": port out of range 1..65535");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("invalid Redis URL " + shown + ": query parameters are not supported;"
                    + " use the keys of the redis section (timeout)");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!path.isEmpty() && !path.equals("/")) {
            if (!path.matches("/\\d{1,5}")) {
                throw new IllegalArgumentException("invalid Redis URL " + shown + ": the path must be a database "
                        + "number, such as /0");
            }
            if (cluster && Integer.parseInt(path.substring(1)) != 0) {
                throw new IllegalArgumentException("invalid Redis URL " + shown + ": a Redis Cluster has only "
                        + "database 0");
            }
        }
        return s;
    }
}
