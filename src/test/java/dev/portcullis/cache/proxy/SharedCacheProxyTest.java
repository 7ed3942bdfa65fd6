package dev.portcullis.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.observe.RedisStats;
import dev.portcullis.redis.RedisClients;
import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.RedisServer;
import dev.portcullis.testing.TestProxy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two Portcullis instances sharing one real redis-server: the shared cache tier, purges that reach every instance,
 * and Redis going away and coming back while both keep serving. Black-box: HTTP in, an origin that counts.
 */
class SharedCacheProxyTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Both instances are reached under one name, as behind a load balancer: one cache key for both. */
    private static final String HOST = "shared.test";

    private RedisServer redis;
    private CountingOrigin origin;
    private TestProxy p1;
    private TestProxy p2;
    private final Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
        // each fetch of a URI gets a new version in its body: a stale copy served after a purge would show
        origin = CountingOrigin.start(r -> Reply.ok("v" + versions.computeIfAbsent(r.uri(), k -> new AtomicInteger())
                        .incrementAndGet() + " " + r.uri(), "Cache-Control", "max-age=300",
                "Surrogate-Key", r.uri().startsWith("/t") ? "group" : "other"));
        p1 = TestProxy.start(yaml("1s"));
        p2 = TestProxy.start(yaml("1s"));
        await().atMost(WAIT).until(() -> connected(p1) && connected(p2));
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {p1, p2, origin, redis}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
    }

    private String yaml(String timeout) {
        return """
                redis: { url: "%s", timeout: %s }
                caches:
                  default: { memory: 16MiB, shared: redis }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                        cache: default
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(redis.url(), timeout, origin.address());
    }

    private static boolean connected(TestProxy p) {
        RedisClients c = p.process().snapshot().redis();
        return c != null && c.isConnected();
    }

    private static RedisStats stats(TestProxy p) {
        return p.process().metrics().redis();
    }

    private static long stored(TestProxy p) {
        return stats(p).tier("default").count("stored");
    }

    private static long received(TestProxy p) {
        return stats(p).count("broadcasts", "received");
    }

    record Response(int status, Map<String, String> headers, String body) {
        String cacheStatus() {
            return headers.getOrDefault("cache-status", "");
        }
    }

    /** A GET with {@code Host: shared.test}, over its own connection. */
    private static Response get(TestProxy p, String path) throws Exception {
        String raw = RawHttp.exchange(p.port("web"), "GET " + path + " HTTP/1.1\r\nHost: " + HOST
                + "\r\nConnection: close\r\n\r\n", 10_000);
        int end = raw.indexOf("\r\n\r\n");
        assertThat(end).as("a whole response head: " + raw).isPositive();
        Map<String, String> headers = new ConcurrentHashMap<>();
        String[] lines = raw.substring(0, end).split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Response(RawHttp.status(raw), headers, raw.substring(end + 4));
    }

    /** Stores on {@code p} and waits until its copy is in Redis. */
    private static Response fill(TestProxy p, String path) throws Exception {
        long before = stored(p);
        Response r = get(p, path);
        assertThat(r.cacheStatus()).contains("stored");
        await().atMost(WAIT).until(() -> stored(p) > before);
        return r;
    }

    private static HttpResponse<String> purge(TestProxy p, String json) throws Exception {
        return CacheProxyTest.CLIENT.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + p.adminPort() + "/api/v1/cache/purge"))
                .POST(HttpRequest.BodyPublishers.ofString(json)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aSecondInstanceServesWhatTheFirstStoredWithoutAskingTheOrigin() throws Exception {
        assertThat(fill(p1, "/a").body()).isEqualTo("v1 /a");
        Response fromShared = get(p2, "/a");
        assertThat(fromShared.status()).isEqualTo(200);
        assertThat(fromShared.body()).isEqualTo("v1 /a");
        assertThat(fromShared.cacheStatus()).startsWith("portcullis; hit");
        assertThat(fromShared.headers()).containsKey("age");
        assertThat(get(p2, "/a").cacheStatus()).startsWith("portcullis; hit"); // now from its own memory
        assertThat(origin.count("GET /a")).isEqualTo(1);
        assertThat(stats(p2).tier("default").count("hit")).isEqualTo(1);
    }

    @Test
    void aPurgeOnOneInstanceReachesTheOtherIncludingItsMemoryCopies() throws Exception {
        fill(p1, "/p");
        assertThat(get(p2, "/p").body()).isEqualTo("v1 /p"); // p2 holds it in memory now
        long heard = received(p2);
        HttpResponse<String> purged = purge(p1, "{\"url\": \"http://" + HOST + "/p\"}");
        assertThat(purged.statusCode()).isEqualTo(200);
        assertThat(purged.body()).contains("\"purged\":1");
        await().atMost(WAIT).until(() -> received(p2) > heard);
        assertThat(received(p1)).as("an instance ignores its own purges").isZero();

        Response again = get(p2, "/p"); // neither its memory nor Redis has v1
        assertThat(again.body()).isEqualTo("v2 /p");
        assertThat(again.cacheStatus()).contains("fwd=uri-miss");
        await().atMost(WAIT).until(() -> stored(p2) > 0);
        assertThat(get(p1, "/p").body()).as("p1's memory copy went too: it gets p2's new one")
                .isEqualTo("v2 /p");
        assertThat(origin.count("GET /p")).isEqualTo(2);

        // a tag purge made on the other instance, the other way round
        fill(p1, "/t1");
        assertThat(get(p2, "/t1").body()).isEqualTo("v1 /t1");
        long heard1 = received(p1);
        assertThat(purge(p2, "{\"tag\": \"group\"}").statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> received(p1) > heard1);
        assertThat(get(p1, "/t1").body()).isEqualTo("v2 /t1");
        assertThat(get(p1, "/a-new").cacheStatus()).contains("fwd=uri-miss");
    }

    @Test
    void withRedisGoneBothInstancesKeepServingAndTheyShareAgainOnceItIsBack() throws Exception {
        fill(p1, "/k");
        assertThat(get(p2, "/k").body()).isEqualTo("v1 /k");

        redis.kill();
        for (int i = 0; i < 5; i++) {
            for (TestProxy p : new TestProxy[] {p1, p2}) {
                Response r = get(p, "/down/" + i);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).startsWith("v");
            }
            assertThat(get(p1, "/k").body()).isEqualTo("v1 /k"); // from memory
            assertThat(get(p2, "/k").body()).isEqualTo("v1 /k");
        }
        assertThat(origin.count("GET /k")).isEqualTo(1);
        // a purge still purges here; telling the others fails (warned, counted), the answer is still 200
        assertThat(purge(p1, "{\"prefix\": \"http://" + HOST + "/down/\"}").statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> stats(p1).count("broadcasts", "failed") > 0);
        assertThat(stats(p1).count("errors", "load") + stats(p2).count("errors", "load")).isPositive();

        redis.restart(); // empty
        await().atMost(WAIT).until(() -> connected(p1) && connected(p2));
        await().atMost(WAIT).untilAsserted(() -> {
            String path = "/after/" + System.nanoTime();
            fill(p1, path);
            Response shared = get(p2, path);
            assertThat(shared.cacheStatus()).startsWith("portcullis; hit");
            assertThat(origin.count("GET " + path)).isEqualTo(1);
        });
        // the purge channel is subscribed again too
        await().atMost(WAIT).untilAsserted(() -> {
            long heard = received(p1);
            assertThat(purge(p2, "{\"tag\": \"nothing\"}").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(3)).until(() -> received(p1) > heard);
        });
    }

    @Test
    void anInstanceStartedWhileRedisIsDownServesAndConnectsOnceItIsUp() throws Exception {
        redis.kill();
        try (TestProxy p3 = TestProxy.start(yaml("1s"))) { // starts anyway: Redis is not needed to serve
            Response r = get(p3, "/early");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("v1 /early");
            assertThat(get(p3, "/early").cacheStatus()).startsWith("portcullis; hit"); // memory still works
            assertThat(connected(p3)).isFalse();
            assertThat(stats(p3).count("errors", "connect")).isPositive();

            redis.restart();
            await().atMost(WAIT).until(() -> connected(p3) && connected(p1));
            fill(p3, "/late");
            assertThat(get(p1, "/late").cacheStatus()).startsWith("portcullis; hit");
            assertThat(origin.count("GET /late")).isEqualTo(1);
        }
    }

    @Test
    void aReloadKeepsTheRedisClientWhileTheRedisSectionIsUnchanged() throws Exception {
        RedisClients before = p1.process().snapshot().redis();
        fill(p1, "/r");
        assertThat(p1.reload(yaml("1s"))).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(p1.process().snapshot().redis()).isSameAs(before);
        assertThat(get(p1, "/r").cacheStatus()).startsWith("portcullis; hit");

        assertThat(p1.reload(yaml("2s"))).isInstanceOf(ReloadOutcome.Applied.class);
        RedisClients after = p1.process().snapshot().redis();
        assertThat(after).isNotSameAs(before);
        assertThat(before.isClosed()).isTrue();
        await().atMost(WAIT).until(after::isConnected);
        // a new zone (its tier is bound to the new client): memory empty, the object comes from Redis
        Response r = get(p1, "/r");
        assertThat(r.body()).isEqualTo("v1 /r");
        assertThat(r.cacheStatus()).startsWith("portcullis; hit");
        assertThat(origin.count("GET /r")).isEqualTo(1);

        // a reload with a bad redis section is refused and the running client stays
        ReloadOutcome refused = p1.reload(yaml("2s").replace("redis://", "http://"));
        assertThat(refused).isInstanceOf(ReloadOutcome.Refused.class);
        assertThat(p1.process().snapshot().redis()).isSameAs(after);
        assertThat(after.isClosed()).isFalse();
    }
}
