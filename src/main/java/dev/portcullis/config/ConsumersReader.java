package dev.portcullis.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The top-level {@code consumers} list. */
final class ConsumersReader {
    /** Shorter keys are guessable: refused. */
    static final int MIN_KEY_LENGTH = 16;
    static final int MAX_KEY_LENGTH = 4096;

    private ConsumersReader() {
    }

    static List<ConsumerConfig> read(Section top) {
        List<ConsumerConfig> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        Map<String, String> keyOwner = new HashMap<>();
        for (Section.Item item : top.items("consumers", false)) {
            Section c = Section.of(top.errors, item.node(), item.path(), item.node());
            if (c.isBad()) {
                continue;
            }
            c.keys(List.of("name", "api_keys", "groups", "rate_limit"), List.of("quota"));
            String name = c.requiredString("name");
            if (name != null && !Values.isName(name)) {
                c.error("name", "invalid consumer name '" + name + "'; use letters, digits, '_', '.' and '-'");
                name = null;
            } else if (name != null && !names.add(name)) {
                c.error("name", "duplicate consumer name '" + name + "'");
            }
            List<String> keys = new ArrayList<>();
            for (Section.Item k : c.items("api_keys", true)) {
                String key = c.scalar(k.node(), k.path(), "an API key");
                if (key == null || key.isEmpty()) {
                    continue; // "${KEY:-}" with the variable unset: no key, rather than a key that is empty
                }
                if (key.length() < MIN_KEY_LENGTH || key.length() > MAX_KEY_LENGTH
                        || key.chars().anyMatch(ch -> ch <= ' ' || ch >= 0x7f)) {
                    c.errorAt(k, "an API key is " + MIN_KEY_LENGTH + " to " + MAX_KEY_LENGTH + " printable ASCII "
                            + "characters without spaces (for example 'openssl rand -hex 24')");
                    continue;
                }
                String owner = keyOwner.putIfAbsent(key, name == null ? "?" : name);
                if (owner != null) {
                    c.errorAt(k, "this API key is also a key of consumer '" + owner + "'; each key names one consumer");
                    continue;
                }
                keys.add(key);
            }
            List<String> groups = new ArrayList<>();
            for (Section.Item g : c.items("groups", true)) {
                String group = MatchReader.parse(c, g, "a group name", s -> {
                    if (!Values.isName(s)) {
                        throw new IllegalArgumentException("invalid group '" + s + "'; use letters, digits, '_', '.' "
                                + "and '-'");
                    }
                    return s;
                });
                if (group != null && !groups.contains(group)) {
                    groups.add(group);
                }
            }
            GatewayConfig.RateLimit limit = c.has("rate_limit")
                    ? GatewayReader.rateLimit(c.section("rate_limit"), false, null) : null;
            if (name != null) {
                out.add(new ConsumerConfig(name, List.copyOf(keys), List.copyOf(groups), limit));
            }
        }
        return List.copyOf(out);
    }
}
