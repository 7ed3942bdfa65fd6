package dev.portcullis.cache.shared;

import static dev.portcullis.cache.shared.SharedFixtures.response;
import static dev.portcullis.cache.shared.SharedFixtures.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import dev.portcullis.config.CacheZoneConfig;
import dev.portcullis.config.RedisConfig;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.observe.RedisStats;
import dev.portcullis.redis.RedisClients;
import dev.portcullis.testing.RedisCluster;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared tier on a real three-master Redis Cluster: the scripts stay within one slot per URL, multi-key
 * deletes and prefix scans span the nodes, pub/sub reaches a subscriber on any node.
 */
class RedisClusterTierTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static RedisCluster cluster;
    private static RedisClients redis;
    private static RedisTier tier;
    private static RedisStats.SharedTier stats;

    @BeforeAll
    static void start() throws Exception {
        cluster = RedisCluster.start();
        RedisStats s = new ProxyMetrics().redis();
        redis = RedisClients.open(new RedisConfig(cluster.urls().subList(0, 1), true, Duration.ofSeconds(2)), s);
        await().atMost(WAIT).until(redis::isConnected);
        tier = new RedisTier(new CacheZoneConfig("c", 8 << 20, null, 4 << 20,
                new CacheZoneConfig.Shared(1 << 20)), redis);
        stats = s.tier("c");
    }

    @AfterAll
    static void stop() {
        if (tier != null) {
            tier.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void store(StoredResponse r) {
        long before = stats.count("stored");
        tier.store(r);
        r.release();
        await().atMost(WAIT).until(() -> stats.count("stored") > before);
    }

    @Test
    void objectsSpreadOverTheNodesAndEveryPurgeKindReachesThem() throws Exception {
        int n = 30;
        for (int i = 0; i < n; i++) {
            store(response("http://h/c/" + i, "", "body " + i, "Cache-Control", "max-age=60",
                    "Cache-Tag", i % 2 == 0 ? "even" : "odd"));
        }
        store(response("http://h/v", "en", "hello", "Vary", "Accept-Language", "Cache-Control", "max-age=60"));
        store(response("http://h/v", "fr", "bonjour", "Vary", "Accept-Language", "Cache-Control", "max-age=60"));
        for (var node : cluster.nodes()) {
            assertThat(Long.parseLong(node.command("DBSIZE").substring(1))).as("keys on every master").isPositive();
        }
        StoredResponse fr = tier.load("http://h/v", vary -> vary.isEmpty() ? "" : "fr").get(10, TimeUnit.SECONDS);
        assertThat(text(fr)).isEqualTo("bonjour");
        fr.release();

        tier.purgeTag("even"); // objects on several nodes: one DEL per slot
        await().atMost(WAIT).until(() -> load("http://h/c/0") == null && load("http://h/c/28") == null);
        assertThat(present("http://h/c/1")).isTrue();

        tier.purgePrefix("http://h/c/"); // SCAN over every master
        await().atMost(WAIT).until(() -> !present("http://h/c/1") && !present("http://h/c/29"));

        tier.purgeKey("http://h/v");
        await().atMost(WAIT).until(() -> tier.load("http://h/v", vary -> "en").get(10, TimeUnit.SECONDS) == null);
        assertThat(stats.count("corrupt")).isZero();
    }

    @Test
    void aMessagePublishedOnOneNodeReachesASubscriberOnTheCluster() throws Exception {
        CompletableFuture<String> got = new CompletableFuture<>();
        redis.subscribe("portcullis:test", m -> got.complete(new String(m, java.nio.charset.StandardCharsets.UTF_8)));
        await().atMost(WAIT).untilAsserted(() -> {
            redis.publish("portcullis:test", "hi".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .get(5, TimeUnit.SECONDS);
            assertThat(got.get(1, TimeUnit.SECONDS)).isEqualTo("hi");
        });
    }

    private static StoredResponse load(String pk) throws Exception {
        StoredResponse r = tier.load(pk, VariantKeys.NONE).get(10, TimeUnit.SECONDS);
        if (r != null) {
            r.release();
        }
        return r;
    }

    private static boolean present(String pk) throws Exception {
        return load(pk) != null;
    }
}
