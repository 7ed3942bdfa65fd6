package dev.portcullis.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ChildProxy;
import dev.portcullis.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier against crashes, in the packaged proxy run as a child JVM: {@code kill -9} while a large object is
 * being filled, and at the moment its file is being written; a file damaged between two runs. After every restart
 * each object is either a verified hit with the exact bytes or a miss that goes to the origin, never a corrupt or
 * partial body, and the process serves normally.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DiskCacheCrashIT {
    private static final Pattern INDEXED = Pattern.compile("disk tier \\S+: (\\d+) object\\(s\\)");

    @TempDir
    Path dir;

    /** A new client for every run: a kept-alive connection to a killed process must not be reused. */
    private HttpClient client;
    private final Map<String, AtomicInteger> originCounts = new ConcurrentHashMap<>();
    private TestBackend origin;
    private ChildProxy child;
    private int port;
    private Path config;
    private Path cacheDir;

    /** Bodies by path: deterministic, so a reader checks every byte. {@code /slow/...} takes about two seconds. */
    static byte[] body(String path) {
        int size = path.startsWith("/big/") ? 12 << 20 : path.startsWith("/slow/") ? 8 << 20 : 100_000;
        byte[] b = new byte[size];
        new Random(path.hashCode()).nextBytes(b);
        return b;
    }

    @BeforeEach
    void start() throws Exception {
        origin = TestBackend.start("origin", ex -> {
            String path = ex.getRequestURI().getPath();
            originCounts.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            byte[] b = body(path);
            ex.getResponseHeaders().set("Cache-Control", "max-age=3600");
            ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream out = ex.getResponseBody()) {
                int step = 256 << 10;
                for (int i = 0; i < b.length; i += step) {
                    out.write(b, i, Math.min(step, b.length - i));
                    out.flush();
                    if (path.startsWith("/slow/")) {
                        sleep(60);
                    }
                }
            } catch (IOException e) {
                // the proxy was killed mid-body
            }
        });
        port = ChildProxy.freePort(); // one port for every run: the Host is part of the cache key
        cacheDir = dir.resolve("cache");
        config = dir.resolve("portcullis.yaml");
        Files.writeString(config, """
                access_log: { path: off }
                admin: { bind: 127.0.0.1:0 }
                shutdown_timeout: 2s
                caches:
                  default: { memory: 32MiB, max_object_size: 16MiB, disk: { path: cache, size: 256MiB } }
                listeners:
                  - name: web
                    bind: 127.0.0.1:%d
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                        cache: default
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(port, origin.address()));
    }

    @AfterEach
    void stop() {
        if (child != null) {
            child.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private void run() throws Exception {
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
        child = ChildProxy.start(dir, List.of("-Xmx256m", "-Dio.netty.leakDetection.level=paranoid"), "run", "-c",
                config.toString());
        child.listenerPort("web", Duration.ofSeconds(30));
        awaitDiskReady();
    }

    /** The start-up scan says how many objects it indexed; the gauge shows them once lookups may find them. */
    private long awaitDiskReady() throws Exception {
        child.awaitOutput("indexed in", Duration.ofSeconds(30));
        Matcher m = INDEXED.matcher(child.stderr() + child.stdout());
        assertThat(m.find()).as("the scan's log line").isTrue();
        long n = Long.parseLong(m.group(1));
        awaitMetric("portcullis_cache_disk_objects", n);
        return n;
    }

    private void killNine() throws Exception {
        child.signal("KILL");
        child.awaitExit(Duration.ofSeconds(10));
    }

    private void stopGracefully() throws Exception {
        child.signal("TERM");
        assertThat(child.awaitExit(Duration.ofSeconds(20))).isZero();
        assertThat(child.stderr()).doesNotContain("LEAK").doesNotContain("Exception in thread");
    }

    @Test
    void aKillNineDuringAFillOrADiskWriteNeverServesAPartialObject() throws Exception {
        run();
        // 1. killed while the origin is still streaming the object: nothing of it may be stored
        try (InputStream in = client.send(get("/slow/1"), HttpResponse.BodyHandlers.ofInputStream()).body()) {
            in.readNBytes(2 << 20);
        }
        killNine();
        run();
        HttpResponse<byte[]> slow = client.send(get("/slow/1"), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(slow.body()).isEqualTo(body("/slow/1"));
        assertThat(cacheStatus(slow)).contains("fwd=uri-miss");
        assertThat(originCounts.get("/slow/1").get()).isEqualTo(2);
        awaitMetric("portcullis_cache_disk_objects", 1); // stored now: its write is over before the next part

        // 2. killed the moment the disk tier creates the object's temp file (inotify), while it writes and forces it
        boolean[] midWrite = new boolean[3];
        for (int round = 0; round < 3; round++) {
            String path = "/big/" + round;
            midWrite[round] = killWhenTheWriteStarts(path);
            run();
            try (Stream<Path> files = Files.walk(cacheDir)) {
                assertThat(files.filter(f -> f.toString().endsWith(".tmp")).toList())
                        .as("unfinished writes are removed at start").isEmpty();
            }
            if (midWrite[round]) {
                assertThat(child.stderr()).contains("unfinished write(s) removed");
            }
            HttpResponse<byte[]> r = client.send(get(path), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            // a miss stores it again: let that write end before the next round watches for the next one
            awaitMetric("portcullis_cache_disk_objects", 2 + round);
            assertThat(r.body()).as(path + " byte for byte").isEqualTo(body(path));
            int expectedOriginHits = cacheStatus(r).startsWith("portcullis; hit") ? 1 : 2;
            assertThat(originCounts.get(path).get()).as(cacheStatus(r)).isEqualTo(expectedOriginHits);
            System.out.printf("DiskCacheCrashIT: %s killed %s; after the restart: %s%n", path,
                    midWrite[round] ? "while its disk file was being written" : "after its disk file was complete",
                    cacheStatus(r));
        }
        // 3. killed after a write was complete: the object survives the kill and is a verified hit
        client.send(get("/after"), HttpResponse.BodyHandlers.ofByteArray());
        awaitMetric("portcullis_cache_disk_objects", 5);
        killNine();
        run();
        HttpResponse<byte[]> hit = client.send(get("/after"), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(hit.body()).isEqualTo(body("/after"));
        assertThat(cacheStatus(hit)).startsWith("portcullis; hit");
        assertThat(originCounts.get("/after").get()).isEqualTo(1);
        // and the process serves normally to an orderly stop
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> big = client.send(get("/big/" + i), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(big.body()).isEqualTo(body("/big/" + i));
            assertThat(cacheStatus(big)).startsWith("portcullis; hit");
        }
        stopGracefully();
    }

    /**
     * Fetches {@code path} and sends SIGKILL as soon as its temp file appears in the cache directory.
     *
     * @return whether the temp file was still there once the process was dead (the kill landed mid-write)
     */
    private boolean killWhenTheWriteStarts(String path) throws Exception {
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            try (Stream<Path> subdirs = Files.list(cacheDir)) {
                for (Path sub : subdirs.filter(Files::isDirectory).toList()) {
                    sub.register(ws, StandardWatchEventKinds.ENTRY_CREATE);
                }
            }
            CompletableFuture<HttpResponse<byte[]>> fetch = client.sendAsync(get(path),
                    HttpResponse.BodyHandlers.ofByteArray());
            Path temp = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (temp == null && System.nanoTime() < deadline) {
                WatchKey key = ws.poll(100, TimeUnit.MILLISECONDS);
                if (key == null) {
                    continue;
                }
                for (WatchEvent<?> ev : key.pollEvents()) {
                    if (ev.context() instanceof Path p && p.toString().endsWith(".tmp")) {
                        temp = ((Path) key.watchable()).resolve(p);
                        child.process.destroyForcibly(); // SIGKILL, at once
                        break;
                    }
                }
                key.reset();
            }
            if (temp == null) {
                HttpResponse<byte[]> r = fetch.get(10, TimeUnit.SECONDS);
                throw new AssertionError("the disk tier did not start writing " + path + " (" + r.statusCode() + ", "
                        + cacheStatus(r) + ")\nstderr:\n" + child.stderr());
            }
            child.awaitExit(Duration.ofSeconds(10));
            fetch.handle((r, e) -> null).get(10, TimeUnit.SECONDS); // complete or cut by the kill
            return Files.exists(temp);
        }
    }

    @Test
    void aFileDamagedBetweenRunsIsDetectedDroppedAndFetchedAgain() throws Exception {
        run();
        for (String p : List.of("/d/body", "/d/head", "/d/fine")) {
            client.send(get(p), HttpResponse.BodyHandlers.ofByteArray());
        }
        awaitMetric("portcullis_cache_disk_objects", 3);
        stopGracefully();

        // one byte flipped in a body (seen when it is loaded) and one in a head (seen by the start-up scan)
        Path bodyFile = fileOf("/d/body");
        flip(bodyFile, Files.size(bodyFile) - 1000);
        Path headFile = fileOf("/d/head");
        flip(headFile, 40);

        run();
        assertThat(child.stderr()).contains("1 damaged file(s)");
        assertThat(Files.exists(headFile)).isFalse();
        for (String p : List.of("/d/body", "/d/head")) {
            HttpResponse<byte[]> r = client.send(get(p), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.body()).as(p).isEqualTo(body(p));
            assertThat(cacheStatus(r)).as(p).contains("fwd=uri-miss");
            assertThat(originCounts.get(p).get()).as(p).isEqualTo(2);
        }
        assertThat(child.stderr()).contains("is damaged (body checksum mismatch)");
        HttpResponse<byte[]> fine = client.send(get("/d/fine"), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(fine.body()).isEqualTo(body("/d/fine"));
        assertThat(cacheStatus(fine)).startsWith("portcullis; hit");
        assertThat(originCounts.get("/d/fine").get()).isEqualTo(1);
        // fetched again, stored again, and served from disk after another restart
        awaitMetric("portcullis_cache_disk_objects", 3);
        assertThat(metric("portcullis_cache_disk_damaged_total")).isEqualTo(2);
        stopGracefully();
        run();
        HttpResponse<byte[]> again = client.send(get("/d/body"), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(again.body()).isEqualTo(body("/d/body"));
        assertThat(cacheStatus(again)).startsWith("portcullis; hit");
        stopGracefully();
    }

    // ---- helpers ----

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .build();
    }

    private static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("Cache-Status").orElse("");
    }

    /** The object file whose head names {@code path} (keys are stored in the clear). */
    private Path fileOf(String path) throws IOException {
        byte[] needle = path.getBytes(StandardCharsets.UTF_8);
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(cacheDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] head = new byte[(int) Math.min(Files.size(f), 4096)];
                try (InputStream in = Files.newInputStream(f)) {
                    in.readNBytes(head, 0, head.length);
                }
                if (indexOf(head, needle) >= 0) {
                    found.add(f);
                }
            }
        }
        assertThat(found).as("the file of " + path).hasSize(1);
        return found.get(0);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            // the key is followed by its variant key's length (4 bytes): /d/body is not a prefix of /d/bodyX
            return i;
        }
        return -1;
    }

    private static void flip(Path p, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }

    private double metric(String name) throws Exception {
        int admin = child.adminPort(Duration.ofSeconds(10));
        String text = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{zone=\"default\"\\} (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private void awaitMetric(String name, double value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        double last;
        while ((last = metric(name)) != value) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " is " + last + ", expected " + value + "\nstderr:\n" + child.stderr());
            }
            Thread.sleep(25);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
