package dev.portcullis.config;

import java.util.List;

/**
 * One entry of the top-level {@code consumers}: an identity of the API gateway, known by its API keys (for
 * {@code auth.api_key}) or by its name (the user of {@code auth.basic}); counted by name in the metrics and the
 * access log ({@code {consumer.name}}), limited by {@code rate_limit: { key: consumer }}.
 *
 * @param apiKeys as written (kept in memory only hashed, see the gateway's key table); empty values are left out
 * @param groups  for routes' {@code auth.groups}
 * @param rateLimit the consumer's own limit over every route that authenticates it (counted in this instance);
 *                  null for none
 */
public record ConsumerConfig(String name, List<String> apiKeys, List<String> groups, GatewayConfig.RateLimit rateLimit) {
    public ConsumerConfig(String name, List<String> apiKeys, List<String> groups) {
        this(name, apiKeys, groups, null);
    }

    @Override
    public String toString() {
        return "ConsumerConfig[" + name + ", " + apiKeys.size() + " api keys, groups " + groups
                + (rateLimit == null ? "" : ", rate limit " + rateLimit.limit() + " per " + rateLimit.per()) + "]";
    }
}
