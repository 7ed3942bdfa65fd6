package dev.portcullis.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ChildProxy;
import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two packaged-jar processes sharing one redis-server: the shaded lettuce client at work, and purges across them. */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedCacheIT {
    private static final Duration START = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static String get(int port, String path) throws Exception {
        return RawHttp.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: shared.test\r\nConnection: close\r\n\r\n",
                10_000);
    }

    @Test
    void twoProcessesShareObjectsAndPurgesThroughRedis() throws Exception {
        try (RedisServer redis = RedisServer.start();
             CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("body of " + r.uri(),
                     "Cache-Control", "max-age=300"))) {
            Path config = dir.resolve("portcullis.yaml");
            Files.writeString(config, """
                    access_log: { path: off }
                    shutdown_timeout: 5s
                    admin: { bind: 127.0.0.1:0 }
                    redis: { url: "%s" }
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
                    """.formatted(redis.url(), origin.address()));
            try (ChildProxy a = ChildProxy.start(dir, List.of(), "run", "-c", config.toString());
                 ChildProxy b = ChildProxy.start(dir, List.of(), "run", "-c", config.toString())) {
                int portA = a.listenerPort("web", START);
                int portB = b.listenerPort("web", START);
                a.awaitOutput("redis: connected", START);
                b.awaitOutput("redis: connected", START);

                assertThat(get(portA, "/x")).contains("stored").endsWith("body of /x");
                Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> !redis.command("DBSIZE").equals(":0"));
                String fromShared = get(portB, "/x");
                assertThat(fromShared).contains("Cache-Status: portcullis; hit").endsWith("body of /x");
                assertThat(origin.count("GET /x")).isEqualTo(1);

                HttpResponse<String> purge = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + a.adminPort(START) + "/api/v1/cache/purge"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"url\": \"http://shared.test/x\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(purge.statusCode()).isEqualTo(200);
                b.awaitOutput("cache purge from instance", START);
                assertThat(get(portB, "/x")).contains("fwd=uri-miss");
                assertThat(origin.count("GET /x")).isEqualTo(2);
                assertThat(a.stderr() + b.stderr()).doesNotContain(" ERROR ").doesNotContain("\tat ")
                        .doesNotContain("failed (");
            }
        }
    }
}
