package dev.portcullis.config;

import java.util.List;
import java.util.Map;

/**
 * {@code routes[].match}. Every field is optional; empty lists/maps and null strings mean "any".
 * At most one of path, pathPrefix, pathRegex is set.
 *
 * @param hosts   lower-case; exact names or leading wildcards such as "*.example.com"
 * @param methods upper-case method names
 * @param headers header name to exact value
 * @param query   query parameter name to exact value
 * @param sources CIDRs such as 10.0.0.0/8 or ::1/128 (a bare address means /32 or /128)
 */
public record MatchConfig(
        List<String> hosts,
        String path,
        String pathPrefix,
        String pathRegex,
        List<String> methods,
        Map<String, String> headers,
        Map<String, String> query,
        List<String> sources) {

    public static final MatchConfig ANY = new MatchConfig(List.of(), null, null, null, List.of(), Map.of(), Map.of(), List.of());
}
