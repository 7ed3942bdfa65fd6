package dev.portcullis.config;

import static dev.portcullis.config.ConfigErrorsTest.LISTENER;
import static dev.portcullis.config.ConfigErrorsTest.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The top-level {@code redis} section and a zone's {@code shared: redis}. */
class RedisConfigTest {
    static PortcullisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "t.yaml", Map.of());
    }

    @Test
    void oneServerOrTheSeedNodesOfACluster() throws Exception {
        RedisConfig one = parse("redis: { url: redis://127.0.0.1:6379 }\n" + LISTENER).redis();
        assertThat(one).isEqualTo(new RedisConfig(List.of("redis://127.0.0.1:6379"), false,
                RedisConfig.DEFAULT_TIMEOUT));
        RedisConfig cluster = parse("""
                redis:
                  cluster: [redis://10.0.0.1:7000, "rediss://:s3cret@10.0.0.2:7000"]
                  timeout: 250ms
                """ + LISTENER).redis();
        assertThat(cluster.cluster()).isTrue();
        assertThat(cluster.urls()).hasSize(2);
        assertThat(cluster.timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(parse(LISTENER).redis()).isNull();
        assertThat(parse("redis:\n" + LISTENER).redis()).as("an empty section is no redis").isNull();
        assertThat(parse("redis: { url: 'redis://u:p@h/3' }\n" + LISTENER).redis().urls())
                .containsExactly("redis://u:p@h/3");
    }

    @Test
    void aPasswordIsNeverShownInLogsOrErrors() throws Exception {
        RedisConfig c = parse("redis: { url: 'redis://admin:hunter2@127.0.0.1:6379' }\n" + LISTENER).redis();
        assertThat(c.toString()).doesNotContain("hunter2").contains("redis://***@127.0.0.1:6379");
        assertThat(c.redactedUrls()).containsExactly("redis://***@127.0.0.1:6379");
        assertThat(errors("redis: { url: 'http://admin:hunter2@127.0.0.1:6379' }\n" + LISTENER)).singleElement()
                .asString().doesNotContain("hunter2").contains("http://***@127.0.0.1:6379");
    }

    @Test
    void badRedisSectionsAreRefusedWithFileLineAndKey() {
        assertThat(errors("redis: { url: 'http://127.0.0.1:6379' }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis.url: invalid Redis URL 'http://127.0.0.1:6379': unsupported scheme 'http'; "
                        + "expected redis://host:port (or rediss:// for TLS)");
        assertThat(errors("redis: { url: '127.0.0.1:6379' }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis.url: invalid Redis URL '127.0.0.1:6379'; expected redis://host:port");
        assertThat(errors("redis: { url: 'localhost:6379' }\n" + LISTENER)).singleElement().asString()
                .startsWith("t.yaml:1: redis.url: invalid Redis URL 'localhost:6379': unsupported scheme 'localhost'");
        assertThat(errors("redis: { url: 'redis://:6379' }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis.url: invalid Redis URL 'redis://:6379': no host; expected redis://host:port");
        assertThat(errors("redis: { url: 'redis://h:6379/x' }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis.url: invalid Redis URL 'redis://h:6379/x': the path must be a database number, "
                        + "such as /0");
        assertThat(errors("redis: { url: 'redis://h:6379?timeout=5s' }\n" + LISTENER)).singleElement().asString()
                .contains("query parameters are not supported");
        assertThat(errors("""
                redis:
                  url: redis://a:6379
                  cluster: [redis://b:7000]
                """ + LISTENER)).containsExactly("t.yaml:3: redis.cluster: give either 'url' (one server) or "
                + "'cluster' (the seed nodes of a Redis Cluster), not both");
        assertThat(errors("redis: { cluster: [] }\n" + LISTENER)).containsExactly("t.yaml:1: redis.cluster: the "
                + "cluster list is empty; give at least one seed node, such as [redis://10.0.0.1:7000]");
        assertThat(errors("""
                redis:
                  cluster:
                    - redis://a:7000
                    - redis://b:7000/2
                """ + LISTENER)).containsExactly("t.yaml:4: redis.cluster[1]: invalid Redis URL "
                + "'redis://b:7000/2': a Redis Cluster has only database 0");
        assertThat(errors("redis: { timeout: 1s }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis: missing required key 'url'");
        assertThat(errors("redis: { url: redis://a:1, timeout: 0s }\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis.timeout: duration '0s' must be above zero");
        assertThat(errors("redis: { url: redis://a:1, pool: 3 }\n" + LISTENER)).singleElement().asString()
                .startsWith("t.yaml:1: redis.pool: unknown key 'pool'");
        assertThat(errors("redis: redis://a:1\n" + LISTENER)).containsExactly(
                "t.yaml:1: redis: expected a mapping, found a scalar 'redis://a:1'");
    }

    static String zone(String zoneKeys, boolean redis) {
        return (redis ? "redis: { url: redis://127.0.0.1:6379 }\n" : "") + """
                caches:
                  z: { memory: 8MiB, %s }
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes: [ { upstream: backend, cache: z } ]
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """.formatted(zoneKeys);
    }

    @Test
    void aZoneSharesThroughRedisOnlyWhenThereIsOne() throws Exception {
        CacheZoneConfig z = parse(zone("shared: redis", true)).caches().get("z");
        assertThat(z.shared()).isEqualTo(new CacheZoneConfig.Shared(1L << 20)); // default: 1 MiB
        z = parse(zone("max_object_size: 64KiB, shared: redis", true)).caches().get("z");
        assertThat(z.shared().maxObjectSize()).isEqualTo(64 * 1024); // never above max_object_size
        z = parse(zone("shared: redis, shared_max_object_size: 4MiB", true)).caches().get("z");
        assertThat(z.shared().maxObjectSize()).isEqualTo(4L << 20);
        assertThat(parse(zone("max_object_size: 1MiB", true)).caches().get("z").shared()).isNull();

        assertThat(errors(zone("shared: redis", false))).containsExactly("t.yaml:2: caches.z.shared: "
                + "'shared: redis' needs the top-level 'redis' section, such as redis: { url: redis://127.0.0.1:6379 }");
        assertThat(errors(zone("shared: memcached", true))).containsExactly(
                "t.yaml:3: caches.z.shared: invalid shared tier 'memcached'; expected redis");
        assertThat(errors(zone("shared_max_object_size: 1MiB", true))).containsExactly(
                "t.yaml:3: caches.z.shared_max_object_size: shared_max_object_size needs 'shared: redis'");
        assertThat(errors(zone("shared: redis, shared_max_object_size: 32MiB", true))).containsExactly(
                "t.yaml:3: caches.z.shared_max_object_size: shared_max_object_size (33554432 bytes) is larger than "
                        + "max_object_size (8388608 bytes); nothing that large is stored");
    }
}
