package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheProxyTest.CLIENT;
import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static dev.portcullis.cache.proxy.CacheProxyTest.purge;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.ChildProxy;
import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.TestProxy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier through the proxy: a real origin that counts its requests, a real directory, and Portcullis
 * stopped and started again on it. The memory tier holds two or three of the objects, so the disk serves the rest.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiskCacheProxyTest {
    private static final int OBJECTS = 12;
    private static final int SIZE = 100_000;

    @TempDir
    Path dir;
    /**
     * One port for every start: the cache key holds the Host the client sends ({@code 127.0.0.1:PORT}), and a
     * restarted proxy must be asked for the same URL to find what the last one stored.
     */
    private final int port = freePort();

    private static int freePort() {
        try {
            return ChildProxy.freePort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String yaml(CountingOrigin origin, String memory) {
        return """
                caches:
                  default: { memory: %s, max_object_size: 128KiB, disk: { path: %s, size: 64MiB } }
                listeners:
                  - name: web
                    bind: 127.0.0.1:%d
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                        cache: default
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(memory, dir.resolve("cache"), port, origin.address());
    }

    private static byte[] body(String path) {
        byte[] b = new byte[SIZE];
        new Random(path.hashCode()).nextBytes(b);
        return b;
    }

    private static CountingOrigin origin() throws Exception {
        return CountingOrigin.start(r -> Reply.ok("", "Cache-Control", "max-age=600", "Surrogate-Key",
                r.uri().startsWith("/o/1") ? "ones" : "others").body(body(r.uri())));
    }

    private static HttpResponse<byte[]> get(TestProxy p, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void objectsAreServedFromDiskWhenMemoryDroppedThemAndAfterARestart() throws Exception {
        try (CountingOrigin origin = origin()) {
            try (TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
                awaitMetric(p, "portcullis_cache_disk_objects", 0); // the (empty) directory is scanned
                for (int i = 0; i < OBJECTS; i++) {
                    HttpResponse<byte[]> r = get(p, "/o/" + i);
                    assertThat(r.body()).isEqualTo(body("/o/" + i));
                    assertThat(cacheStatus(r)).contains("fwd=uri-miss").contains("stored");
                }
                awaitMetric(p, "portcullis_cache_disk_objects", OBJECTS);
                // memory holds two of them: the first ones come back from disk
                for (int i = 0; i < 3; i++) {
                    HttpResponse<byte[]> r = get(p, "/o/" + i);
                    assertThat(r.body()).isEqualTo(body("/o/" + i));
                    assertThat(cacheStatus(r)).startsWith("portcullis; hit");
                }
                assertThat(metric(p, "portcullis_cache_disk_hits_total")).isGreaterThanOrEqualTo(1);
            }
            assertThat(origin.total()).isEqualTo(OBJECTS);

            // a new process on the same directory: nothing in memory, all on disk
            try (TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
                awaitMetric(p, "portcullis_cache_disk_objects", OBJECTS);
                for (int i = 0; i < OBJECTS; i++) {
                    HttpResponse<byte[]> r = get(p, "/o/" + i);
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).as("/o/" + i).isEqualTo(body("/o/" + i));
                    assertThat(cacheStatus(r)).startsWith("portcullis; hit");
                    assertThat(r.headers().firstValue("Age")).isPresent();
                }
                assertThat(metric(p, "portcullis_cache_disk_hits_total")).isEqualTo(OBJECTS);
            }
            assertThat(origin.total()).as("no object fetched twice").isEqualTo(OBJECTS);
        }
    }

    @Test
    void aPurgeReachesTheDiskAndHoldsAfterARestart() throws Exception {
        try (CountingOrigin origin = origin()) {
            try (TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
                awaitMetric(p, "portcullis_cache_disk_objects", 0);
                for (int i = 0; i < OBJECTS; i++) {
                    get(p, "/o/" + i);
                }
                awaitMetric(p, "portcullis_cache_disk_objects", OBJECTS);
                // /o/1, /o/10, /o/11 carry the tag
                HttpResponse<String> r = purge(p, "{\"tag\": \"ones\"}");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"purged\":3");
                awaitMetric(p, "portcullis_cache_disk_objects", OBJECTS - 3);
            }
            try (TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
                awaitMetric(p, "portcullis_cache_disk_objects", OBJECTS - 3);
                HttpResponse<byte[]> purged = get(p, "/o/10");
                assertThat(cacheStatus(purged)).contains("fwd=uri-miss");
                assertThat(purged.body()).isEqualTo(body("/o/10"));
                assertThat(cacheStatus(get(p, "/o/2"))).startsWith("portcullis; hit");
            }
            assertThat(origin.count("GET /o/10")).isEqualTo(2);
            assertThat(origin.count("GET /o/2")).isEqualTo(1);
        }
    }

    @Test
    void aReloadThatChangesTheZoneKeepsWhatIsOnDisk() throws Exception {
        try (CountingOrigin origin = origin();
             TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
            awaitMetric(p, "portcullis_cache_disk_objects", 0);
            for (int i = 0; i < 4; i++) {
                get(p, "/o/" + i);
            }
            awaitMetric(p, "portcullis_cache_disk_objects", 4);
            // a changed zone is a new zone (its memory starts empty); its disk directory is handed over, not reopened
            assertThat(p.reload(yaml(origin, "512KiB"))).isInstanceOf(ReloadOutcome.Applied.class);
            for (int i = 0; i < 4; i++) {
                HttpResponse<byte[]> r = get(p, "/o/" + i);
                assertThat(r.body()).isEqualTo(body("/o/" + i));
                assertThat(cacheStatus(r)).startsWith("portcullis; hit");
            }
            assertThat(origin.total()).isEqualTo(4);
            // and it still writes: a new object reaches the disk
            get(p, "/o/9");
            awaitMetric(p, "portcullis_cache_disk_objects", 5);
        }
    }

    @Test
    void aDirectoryInUseElsewhereIsAConfigErrorAtStartAndOnReload() throws Exception {
        Path taken = dir.resolve("taken");
        Files.createDirectories(taken);
        // another process's lock (here this JVM's own: the store cannot tell them apart, both are refused)
        try (CountingOrigin origin = origin();
             FileChannel ch = FileChannel.open(taken.resolve("portcullis.lock"), StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE);
             FileLock held = ch.lock()) {
            String onTaken = yaml(origin, "256KiB").replace(dir.resolve("cache").toString(), taken.toString());
            ConfigException e = catchThrowableOfType(ConfigException.class, () -> TestProxy.start(onTaken));
            // (a config from a string has no file name: the compiler says <config>; a file's errors name it)
            assertThat(e.errors()).extracting(Object::toString).containsExactly("<config>:4: caches.default.disk.path: "
                    + "the directory " + taken.toRealPath() + " is in use by another process; give each Portcullis "
                    + "process its own disk path");

            try (TestProxy p = TestProxy.start(yaml(origin, "256KiB"))) {
                awaitMetric(p, "portcullis_cache_disk_objects", 0);
                get(p, "/o/1");
                awaitMetric(p, "portcullis_cache_disk_objects", 1);
                ReloadOutcome out = p.reload(onTaken);
                assertThat(out).isInstanceOf(ReloadOutcome.Refused.class);
                assertThat(((ReloadOutcome.Refused) out).errors()).singleElement().asString()
                        .contains("caches.default.disk.path: the directory " + taken.toRealPath() + " is in use");
                // the running config stays, with its disk tier
                HttpResponse<byte[]> r = get(p, "/o/1");
                assertThat(cacheStatus(r)).startsWith("portcullis; hit");
                get(p, "/o/2");
                awaitMetric(p, "portcullis_cache_disk_objects", 2);
            }
        }
    }

    // ---- metrics ----

    private static double metric(TestProxy p, String name) throws Exception {
        String text = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{zone=\"default\"\\} (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Waits until the gauge reads {@code value} (the start-up scan and the writes run on the tier's thread). */
    private static void awaitMetric(TestProxy p, String name, double value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        double last;
        while ((last = metric(p, name)) != value) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " is " + last + ", expected " + value);
            }
            Thread.sleep(20);
        }
    }
}
