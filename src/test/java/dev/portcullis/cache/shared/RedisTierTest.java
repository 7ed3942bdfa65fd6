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
import dev.portcullis.testing.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The shared tier against a real redis-server on a free port. */
class RedisTierTest {
    private static final Duration WAIT = Duration.ofSeconds(15);
    private RedisServer server;
    private RedisClients redis;
    private RedisTier tier;
    private RedisStats.SharedTier stats;
    private final SharedKeys keys = new SharedKeys("z");

    @BeforeEach
    void start() throws Exception {
        server = RedisServer.start();
        RedisStats redisStats = new ProxyMetrics().redis();
        redis = RedisClients.open(new RedisConfig(List.of(server.url()), false, Duration.ofSeconds(2)), redisStats);
        await().atMost(WAIT).until(redis::isConnected);
        tier = new RedisTier(new CacheZoneConfig("z", 8 << 20, null, 4 << 20,
                new CacheZoneConfig.Shared(64 * 1024)), redis);
        stats = redisStats.tier("z");
    }

    @AfterEach
    void stop() {
        tier.close();
        redis.close();
        server.close();
    }

    /** Stores and waits until Redis has the object. */
    private void store(StoredResponse r) {
        long before = stats.count("stored");
        tier.store(r);
        r.release();
        await().atMost(WAIT).until(() -> stats.count("stored") > before);
    }

    private StoredResponse load(String pk, VariantKeys variants) throws Exception {
        return tier.load(pk, variants).get(10, TimeUnit.SECONDS);
    }

    private boolean exists(String key) throws Exception {
        return server.command("EXISTS", key).equals(":1");
    }

    @Test
    void aStoredObjectIsLoadedWholeByAnotherTierOfTheSameZone() throws Exception {
        StoredResponse r = response("http://h/a", "", "shared body", "Content-Type", "text/plain",
                "Cache-Control", "max-age=60", "X-Dup", "1", "X-Dup", "2");
        var meta = r.meta();
        store(r);
        // a second process's tier: nothing in common with the first but Redis
        try (RedisClients other = RedisClients.open(redis.config(), new ProxyMetrics().redis())) {
            await().atMost(WAIT).until(other::isConnected);
            RedisTier second = new RedisTier(new CacheZoneConfig("z", 8 << 20, null, 4 << 20,
                    new CacheZoneConfig.Shared(64 * 1024)), other);
            StoredResponse back = second.load("http://h/a", VariantKeys.NONE).get(10, TimeUnit.SECONDS);
            assertThat(back).isNotNull();
            try {
                assertThat(back.meta()).isEqualTo(meta);
                assertThat(text(back)).isEqualTo("shared body");
            } finally {
                back.release();
            }
        }
        assertThat(load("http://h/missing", VariantKeys.NONE)).isNull();
        assertThat(stats.count("miss")).isEqualTo(1);
    }

    @Test
    void aDamagedObjectIsAMissAndIsDropped() throws Exception {
        store(response("http://h/d", "", "0123456789", "Cache-Control", "max-age=60"));
        String key = keys.object("http://h/d", "");
        String len = server.command("STRLEN", key);
        int at = Integer.parseInt(len.substring(1)) - 6; // a body byte
        assertThat(server.command("SETRANGE", key, Integer.toString(at), "X")).startsWith(":");
        assertThat(load("http://h/d", VariantKeys.NONE)).isNull();
        assertThat(stats.count("corrupt")).isEqualTo(1);
        await().atMost(WAIT).until(() -> !exists(key)); // dropped, not read again and again

        // an object stored under another key's name (a hash collision) is refused too
        store(response("http://h/e", "", "e", "Cache-Control", "max-age=60"));
        store(response("http://h/f", "", "f", "Cache-Control", "max-age=60"));
        assertThat(server.command("COPY", keys.object("http://h/f", ""), keys.object("http://h/e", ""), "REPLACE"))
                .isEqualTo(":1");
        assertThat(load("http://h/e", VariantKeys.NONE)).isNull();
        assertThat(stats.count("corrupt")).isEqualTo(2);
    }

    @Test
    void variantsAreFoundThroughTheStoredVary() throws Exception {
        store(response("http://h/v", "en", "hello", "Vary", "Accept-Language", "Cache-Control", "max-age=60"));
        store(response("http://h/v", "fr", "bonjour", "Vary", "Accept-Language", "Cache-Control", "max-age=60"));
        for (String[] c : new String[][] {{"en", "hello"}, {"fr", "bonjour"}}) {
            StoredResponse r = load("http://h/v", vary -> vary.isEmpty() ? "" : c[0]);
            assertThat(r).as(c[0]).isNotNull();
            assertThat(text(r)).isEqualTo(c[1]);
            r.release();
        }
        assertThat(load("http://h/v", vary -> vary.isEmpty() ? "" : "de")).isNull();
    }

    @Test
    void redisExpiresObjectsWithTheirUsefulness() throws Exception {
        store(response("http://h/t", "", "x", "Cache-Control", "max-age=600", "Surrogate-Key", "tt"));
        long ttl = Long.parseLong(server.command("PTTL", keys.object("http://h/t", "")).substring(1));
        assertThat(ttl).isBetween(590_000L, 600_000L);
        long indexTtl = Long.parseLong(server.command("PTTL", keys.index("http://h/t")).substring(1));
        assertThat(indexTtl).isGreaterThanOrEqualTo(ttl - 1000);
        long tagTtl = Long.parseLong(server.command("PTTL", keys.tag("tt")).substring(1));
        assertThat(tagTtl).isGreaterThan(SharedTtl.CAP.toMillis());
        // a longer-lived object of the same URL extends its index
        store(response("http://h/t", "v2", "y", "Cache-Control", "max-age=6000"));
        assertThat(Long.parseLong(server.command("PTTL", keys.index("http://h/t")).substring(1)))
                .isGreaterThan(5_900_000L);
    }

    @Test
    void purgesByKeyPrefixAndTagReachRedis() throws Exception {
        store(response("http://h/p/1", "en", "a", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(response("http://h/p/1", "fr", "b", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(response("http://h/p/1\nh:x=1", "", "c", "Cache-Control", "max-age=60"));
        store(response("http://h/p/2", "", "d", "Cache-Control", "max-age=60", "Cache-Tag", "red,blue"));
        store(response("http://h/p/3", "", "e", "Cache-Control", "max-age=60", "Cache-Tag", "blue"));
        store(response("http://h/q", "", "f", "Cache-Control", "max-age=60", "Cache-Tag", "red"));

        tier.purgeKey("http://h/p/1"); // both variants, not the key extension
        await().atMost(WAIT).until(() -> !exists(keys.object("http://h/p/1", "en"))
                && !exists(keys.object("http://h/p/1", "fr")));
        assertThat(exists(keys.object("http://h/p/1\nh:x=1", ""))).isTrue();
        assertThat(load("http://h/p/1", vary -> "en")).isNull();

        tier.purgePrefix("http://h/p/1\n"); // the URL's key extensions: its own index, no scan
        await().atMost(WAIT).until(() -> !exists(keys.object("http://h/p/1\nh:x=1", "")));
        assertThat(exists(keys.index("http://h/p/1"))).as("an emptied index goes too").isFalse();

        tier.purgeTag("red"); // /p/2 and /q
        await().atMost(WAIT).until(() -> !exists(keys.object("http://h/q", ""))
                && !exists(keys.object("http://h/p/2", "")));
        assertThat(exists(keys.object("http://h/p/3", ""))).isTrue();

        tier.purgePrefix("http://h/p/"); // a scan of the zone's indexes
        await().atMost(WAIT).until(() -> !exists(keys.object("http://h/p/3", "")));
        assertThat(load("http://h/p/3", VariantKeys.NONE)).isNull();
        assertThat(server.command("EXISTS", keys.tag("blue"))).isEqualTo(":1"); // a dangling entry: harmless

        // the purge counts are not known at once: the zone counts its memory tier's
        assertThat(tier.purgeKey("http://h/x")).isZero();
    }

    @Test
    void anObjectOverTheSharedMaximumIsNotWritten() throws Exception {
        StoredResponse big = response("http://h/big", "", new byte[64 * 1024 + 1], "Cache-Control", "max-age=60");
        tier.store(big);
        big.release();
        assertThat(stats.count("too_large")).isEqualTo(1);
        assertThat(exists(keys.object("http://h/big", ""))).isFalse();
        assertThat(tier.pendingBytes()).isZero();
    }

    @Test
    void redisDownIsAMissAndStoresAreSkippedUntilItIsBack() throws Exception {
        store(response("http://h/r", "", "before", "Cache-Control", "max-age=60"));
        server.kill();
        StoredResponse none = load("http://h/r", VariantKeys.NONE); // completes (null), never fails
        assertThat(none).isNull();
        assertThat(stats.count("error")).isPositive();
        StoredResponse r = response("http://h/r2", "", "during", "Cache-Control", "max-age=60");
        tier.store(r); // never throws
        r.release();
        tier.purgeTag("x");
        tier.purgePrefix("http://h/");
        assertThat(redis.stats().count("errors", "load")).isPositive();

        server.restart(); // empty: nothing was saved
        await().atMost(WAIT).until(redis::isConnected);
        await().atMost(WAIT).untilAsserted(() -> {
            store(response("http://h/r3", "", "after", "Cache-Control", "max-age=60"));
            StoredResponse back = load("http://h/r3", VariantKeys.NONE);
            assertThat(back).isNotNull();
            assertThat(text(back)).isEqualTo("after");
            back.release();
        });
        await().atMost(WAIT).until(() -> tier.pendingBytes() == 0);
    }
}
