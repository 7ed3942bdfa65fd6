package dev.portcullis.config;

import java.util.List;

/**
 * One entry of the top-level {@code consumers}: an identity of the API gateway, known by its API keys (for
 * {@code auth.api_key}) or by its name (the user of {@code auth.basic}); counted by name in the metrics and the
 * access log ({@code {consumer.name}}), limited by {@code rate_limit: { key: consumer }}.
 *
 * @param apiKeys as written (kept in memory only hashed, see the gateway's key table); empty values are left out
 * @param groups  for routes' {@code auth.groups}
 */
public record ConsumerConfig(String name, List<String> apiKeys, List<String> groups) {
    @Override
    public String toString() {
        return "ConsumerConfig[" + name + ", " + apiKeys.size() + " api keys, groups " + groups + "]";
    }
}
