package dev.portcullis.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The whole config, exactly what the user wrote after defaults, env substitution and validation.
 *
 * @param source     the file it came from (null when parsed from a string in tests)
 * @param workers    event-loop threads; 0 means auto (one per core)
 * @param raw        the parsed YAML tree (maps, lists, scalars) for the admin API's /api/v1/config
 * @param upstreams  in file order
 * @param redis      the shared Redis, or null when the config has none
 * @param consumers  the API gateway's identities, in file order
 */
public record PortcullisConfig(
        Path source,
        int workers,
        TransportKind transport,
        Duration shutdownTimeout,
        AdminConfig admin,
        AccessLogConfig accessLog,
        List<ListenerConfig> listeners,
        Map<String, UpstreamConfig> upstreams,
        Map<String, CacheZoneConfig> caches,
        RedisConfig redis,
        List<ConsumerConfig> consumers,
        Map<String, Object> raw) {
}
