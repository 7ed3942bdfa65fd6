package dev.portcullis.admin;

import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The body of {@code POST /api/v1/cache/purge}: exactly one of {@code {"url": ...}} (one URL, every variant),
 * {@code {"prefix": ...}} (every stored URL starting with it) or {@code {"tag": ...}} (every response tagged so by
 * {@code Surrogate-Key} or {@code Cache-Tag}).
 */
public sealed interface PurgeRequest {
    record Url(String url) implements PurgeRequest {}

    record Prefix(String prefix) implements PurgeRequest {}

    record Tag(String tag) implements PurgeRequest {}

    /** @throws IllegalArgumentException with a message for the client */
    static PurgeRequest parse(String body) {
        Object tree;
        try {
            // JSON is YAML 1.2: the config's own parser reads it, no second JSON library needed.
            tree = new Load(LoadSettings.builder().setMaxAliasesForCollections(0).build()).loadFromString(body);
        } catch (YamlEngineException e) {
            throw new IllegalArgumentException("the body is not valid JSON: " + e.getMessage().lines().findFirst()
                    .orElse(""));
        }
        if (!(tree instanceof Map<?, ?> map) || map.size() != 1) {
            throw new IllegalArgumentException("expected one of {\"url\": \"...\"}, {\"prefix\": \"...\"} or "
                    + "{\"tag\": \"...\"}");
        }
        Map.Entry<?, ?> e = map.entrySet().iterator().next();
        if (!(e.getValue() instanceof String value) || value.isBlank()) {
            throw new IllegalArgumentException("'" + e.getKey() + "' must be a non-empty string");
        }
        return switch (String.valueOf(e.getKey())) {
            case "url" -> {
                if (!value.startsWith("http://") && !value.startsWith("https://")) {
                    throw new IllegalArgumentException("'url' must be an absolute http:// or https:// URL, such as "
                            + "https://example.com/path?query");
                }
                yield new Url(value);
            }
            case "prefix" -> new Prefix(value);
            case "tag" -> new Tag(value.trim());
            default -> throw new IllegalArgumentException("unknown key '" + e.getKey() + "'; expected url, prefix or tag");
        };
    }
}
