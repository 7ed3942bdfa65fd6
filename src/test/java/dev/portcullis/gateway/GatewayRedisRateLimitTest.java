package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.redis.RedisClients;
import dev.portcullis.testing.RedisCluster;
import dev.portcullis.testing.RedisServer;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code rate_limit: { store: redis }} with a real {@code redis-server} on a free port: two Portcullis instances
 * sharing it enforce one limit; Redis killed mid-test is answered as {@code on_redis_error} says and the limit comes
 * back with Redis; a Redis Cluster of three nodes works too.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayRedisRateLimitTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static TestBackend be;

    @BeforeAll
    static void start() throws Exception {
        be = TestBackend.start("be");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    static String yaml(String redis, String rateLimit) {
        return """
                redis: %s
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: api
                        match: { path_prefix: / }
                        upstream: be
                        rate_limit: %s
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(redis, rateLimit, be.address());
    }

    private static boolean connected(TestProxy p) {
        RedisClients c = p.process().snapshot().redis();
        return c != null && c.isConnected();
    }

    private static int status(TestProxy p) throws Exception {
        Wire.Message m = Gw.get(p.port("web"), "/x", "");
        return m.status();
    }

    @Test
    void twoInstancesSharingRedisEnforceOneGlobalLimit() throws Exception {
        try (RedisServer redis = RedisServer.start();
             TestProxy p1 = TestProxy.start(yaml("{ url: \"" + redis.url() + "\" }",
                     "{ key: route, rate: 100/m, burst: 100, store: redis }"));
             TestProxy p2 = TestProxy.start(yaml("{ url: \"" + redis.url() + "\" }",
                     "{ key: route, rate: 100/m, burst: 100, store: redis }"))) {
            await().atMost(WAIT).until(() -> connected(p1) && connected(p2));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    TestProxy p = i % 2 == 0 ? p1 : p2;
                    results.add(pool.submit(() -> status(p)));
                }
                int ok = 0;
                int limited = 0;
                for (Future<Integer> f : results) {
                    int s = f.get(30, TimeUnit.SECONDS);
                    if (s == 200) {
                        ok++;
                    } else if (s == 429) {
                        limited++;
                    }
                }
                // one bucket for both: 100 at once, plus what refills at 100/m while the test runs
                assertThat(ok).isBetween(100, 105);
                assertThat(ok + limited).isEqualTo(300);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void redisGoneFollowsOnRedisErrorAndTheLimitComesBackWithIt() throws Exception {
        try (RedisServer redis = RedisServer.start();
             TestProxy allow = TestProxy.start(yaml("{ url: \"" + redis.url() + "\", timeout: 1s }",
                     "{ key: client_ip, rate: 3/m, burst: 3, store: redis }"));
             TestProxy deny = TestProxy.start(yaml("{ url: \"" + redis.url() + "\", timeout: 1s }",
                     "{ key: route, rate: 3/m, burst: 3, store: redis, on_redis_error: deny }"))) {
            await().atMost(WAIT).until(() -> connected(allow) && connected(deny));
            for (int i = 0; i < 3; i++) {
                assertThat(status(allow)).isEqualTo(200);
            }
            assertThat(status(allow)).isEqualTo(429);

            redis.kill();
            for (int i = 0; i < 3; i++) {
                assertThat(status(allow)).isEqualTo(200); // allow: unlimited while Redis is away
            }
            Gw.assertJsonError(Gw.get(deny.port("web"), "/x", ""), 503, "cannot be checked");
            String m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + allow.adminPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(m).contains("portcullis_gateway_rate_limit_redis_errors_total{listener=\"web\","
                    + "outcome=\"allowed\",route=\"api\"} 3.0");

            redis.restart(); // empty: the buckets start afresh
            await().atMost(WAIT).until(() -> connected(allow) && status(allow) == 200);
            int ok = 1;
            while (status(allow) == 200) {
                ok++;
                assertThat(ok).isLessThanOrEqualTo(3);
            }
            assertThat(ok).isEqualTo(3);
        }
    }

    @Test
    void aRedisClusterOfThreeNodesHoldsTheBuckets() throws Exception {
        try (RedisCluster cluster = RedisCluster.start();
             TestProxy p = TestProxy.start(yaml("{ cluster: [\"" + String.join("\", \"", cluster.urls()) + "\"] }",
                     "{ key: 'header:X-Tenant', rate: 2/m, burst: 2, store: redis }"))) {
            await().atMost(WAIT).until(() -> connected(p));
            for (String tenant : List.of("a", "b", "c", "d", "e")) {
                for (int i = 0; i < 2; i++) {
                    assertThat(Gw.get(p.port("web"), "/t", "X-Tenant: " + tenant + "\r\n").status()).isEqualTo(200);
                }
                Wire.Message limited = Gw.get(p.port("web"), "/t", "X-Tenant: " + tenant + "\r\n");
                Gw.assertJsonError(limited, 429, "rate limit");
                assertThat(limited.header("RateLimit-Remaining")).isEqualTo("0");
            }
            assertThat(cluster.keys()).isGreaterThanOrEqualTo(5);
        }
    }
}
