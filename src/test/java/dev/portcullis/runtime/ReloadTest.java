package dev.portcullis.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.upstream.Upstream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Reloads of a running process: atomic, no failed request, refused when bad, listeners and upstreams kept or replaced. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReloadTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private volatile String yaml;
    private Portcullis process;

    /** Starts a process whose config is {@link #yaml}, read again on each reload. */
    private Portcullis start(String initial) throws Exception {
        yaml = initial;
        process = Portcullis.start(new ConfigSource() {
            @Override
            public PortcullisConfig load() throws dev.portcullis.config.ConfigException {
                return ConfigLoader.parse(yaml, "test.yaml", Map.of());
            }

            @Override
            public Path file() {
                return null;
            }
        });
        return process;
    }

    private ReloadOutcome reload(String next) {
        yaml = next;
        return process.reload("test");
    }

    private TestBackend backend(String name) throws IOException {
        TestBackend b = TestBackend.start(name);
        closeLater.add(b);
        return b;
    }

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            process.drainAndStop();
        }
        for (AutoCloseable c : closeLater) {
            c.close();
        }
    }

    private static String config(String upstream, String tag) {
        return """
                access_log: { path: off }
                admin: { bind: 127.0.0.1:0 }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: all
                        match: { path_prefix: / }
                        headers: { response: { set: { X-Config: %s } } }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(tag, upstream);
    }

    private URI uri(String listener, String path) {
        return URI.create("http://127.0.0.1:" + process.listenerAddress(listener).getPort() + path);
    }

    private HttpResponse<String> get(HttpClient c, URI u) throws Exception {
        return c.send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void reloadsUnderLoadWithoutFailingARequest() throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        String configA = config(a.address(), "A");
        String configB = config(b.address(), "B");
        start(configA);
        URI target = uri("web", "/load");

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            boolean post = i % 2 == 1;
            Thread t = new Thread(() -> {
                byte[] body = new byte[64 * 1024];
                while (running.get()) {
                    try {
                        // Half the threads send a 64 KiB body: a reload must not break a request mid-body either.
                        HttpResponse<String> r = post
                                ? own.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10))
                                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                        HttpResponse.BodyHandlers.ofString())
                                : get(own, target);
                        String cfg = r.headers().firstValue("X-Config").orElse("?");
                        String method = post ? " POST /load" : " GET /load";
                        boolean consistent = (cfg.equals("A") && r.body().equals("alpha" + method))
                                || (cfg.equals("B") && r.body().equals("beta" + method));
                        if (r.statusCode() / 100 != 2 || !consistent) {
                            failures.add(r.statusCode() + " X-Config=" + cfg + " body=" + r.body());
                        } else {
                            ok.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, "load-" + i);
            t.start();
            threads.add(t);
        }
        try {
            HttpClient checker = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 1; i <= 10; i++) {
                Thread.sleep(150);
                boolean toB = i % 2 == 1;
                ReloadOutcome outcome = reload(toB ? configB : configA);
                assertThat(outcome).isInstanceOf(ReloadOutcome.Applied.class);
                // A request that starts after the reload (on a kept-alive connection) sees the new config.
                HttpResponse<String> r = get(checker, target);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("X-Config")).hasValue(toB ? "B" : "A");
                assertThat(r.body()).startsWith(toB ? "beta GET /load" : "alpha GET /load");
            }
            Thread.sleep(150);
        } finally {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
        assertThat(failures).as("failed requests during reloads").isEmpty();
        for (TestBackend be : List.of(a, b)) {
            assertThat(be.seen).filteredOn(x -> x.method().equals("POST"))
                    .allSatisfy(x -> assertThat(x.body()).hasSize(64 * 1024));
        }
        assertThat(ok.get()).as("requests served during the reloads").isGreaterThan(100);
        System.out.println("ReloadTest: " + ok.get() + " requests, 10 reloads, 0 failures");
    }

    @Test
    void refusesABadConfigAndKeepsServingTheOldOne() throws Exception {
        TestBackend a = backend("alpha");
        start(config(a.address(), "A"));
        String bad = """
                access_log: { path: off }
                admin: { bind: 127.0.0.1:0 }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { pathprefix: / }
                        upstream: bakend
                upstreams:
                  backend: { endpoints: [%s] }
                """.formatted(a.address());
        ReloadOutcome outcome = reload(bad);
        assertThat(outcome).isInstanceOf(ReloadOutcome.Refused.class);
        List<String> errors = ((ReloadOutcome.Refused) outcome).errors();
        assertThat(errors).hasSize(2);
        assertThat(errors).allSatisfy(e -> assertThat(e).matches("test\\.yaml:\\d+: \\S+: .+"));
        assertThat(errors.get(0)).startsWith("test.yaml:7: listeners[0].routes[0].match.pathprefix: unknown key 'pathprefix'");
        assertThat(errors.get(1)).startsWith("test.yaml:8: listeners[0].routes[0].upstream: unknown upstream 'bakend'");

        HttpResponse<String> r = get(client, uri("web", "/still"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Config")).hasValue("A");
        assertThat(r.body()).isEqualTo("alpha GET /still");
        assertThat(process.snapshot().config().upstreams()).containsKey("be");
    }

    @Test
    void keepsAnUnchangedUpstreamAcrossAReload() throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        String two = """
                access_log: { path: off }
                admin: { bind: 127.0.0.1:0 }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: /b }
                        headers: { response: { set: { X-Config: %s } } }
                        upstream: second
                      - match: { path_prefix: / }
                        upstream: first
                upstreams:
                  first: { endpoints: [%s] }
                  second: { endpoints: [%s] }
                """;
        start(two.formatted("one", a.address(), b.address()));
        Upstream first = process.snapshot().upstreams().get("first");
        Upstream second = process.snapshot().upstreams().get("second");
        get(client, uri("web", "/warm"));

        // Only a route header changes: both upstreams are the same objects afterwards.
        assertThat(reload(two.formatted("two", a.address(), b.address()))).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(process.snapshot().upstreams().get("first")).isSameAs(first);
        assertThat(process.snapshot().upstreams().get("second")).isSameAs(second);
        assertThat(get(client, uri("web", "/b")).headers().firstValue("X-Config")).hasValue("two");

        // 'second' changes (its endpoint moves to alpha): a new object for it, 'first' is kept.
        assertThat(reload(two.formatted("three", a.address(), a.address()))).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(process.snapshot().upstreams().get("first")).isSameAs(first);
        assertThat(process.snapshot().upstreams().get("second")).isNotSameAs(second);
        assertThat(get(client, uri("web", "/b")).body()).isEqualTo("alpha GET /b");
    }

    @Test
    void bindsAnAddedListenerAndClosesARemovedOne() throws Exception {
        TestBackend a = backend("alpha");
        String one = config(a.address(), "A");
        start(one);
        int webPort = process.listenerAddress("web").getPort();
        String two = one.replace("upstreams:\n", """
                  - name: extra
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path: /hi }
                        respond: { status: 200, body: "extra listener" }
                upstreams:
                """);
        assertThat(reload(two)).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(process.listenerAddress("web").getPort()).as("unchanged listener keeps its socket").isEqualTo(webPort);
        int extraPort = process.listenerAddress("extra").getPort();
        assertThat(get(client, uri("extra", "/hi")).body()).isEqualTo("extra listener");

        assertThat(reload(one)).isInstanceOf(ReloadOutcome.Applied.class);
        assertThat(process.listenerAddress("extra")).isNull();
        Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThatThrownBy(() -> new Socket("127.0.0.1", extraPort).close()).isInstanceOf(ConnectException.class));
        assertThat(get(client, uri("web", "/x")).statusCode()).isEqualTo(200);
    }

    @Test
    void adminReloadAnswers200OrRefusesWith422() throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        start(config(a.address(), "A"));
        URI reload = URI.create("http://127.0.0.1:" + process.adminAddress().getPort() + "/api/v1/reload");
        HttpRequest post = HttpRequest.newBuilder(reload).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build();

        yaml = config(b.address(), "B");
        HttpResponse<String> applied = client.send(post, HttpResponse.BodyHandlers.ofString());
        assertThat(applied.statusCode()).isEqualTo(200);
        assertThat(applied.body()).contains("\"status\":\"reloaded\"");
        assertThat(get(client, uri("web", "/x")).body()).isEqualTo("beta GET /x");

        yaml = config(b.address(), "B").replace("upstream: be", "upstream: nope");
        HttpResponse<String> refused = client.send(post, HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("\"status\":\"refused\"")
                .contains("test.yaml:10: listeners[0].routes[0].upstream: unknown upstream 'nope'");
        assertThat(get(client, uri("web", "/x")).body()).isEqualTo("beta GET /x");
    }

    @Test
    void reloadsWhenTheFileChangesOnDisk(@TempDir Path dir) throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        Path file = dir.resolve("portcullis.yaml");
        Files.writeString(file, config(a.address(), "A"));
        process = Portcullis.start(new FileConfigSource(file));
        assertThat(get(client, uri("web", "/f")).body()).isEqualTo("alpha GET /f");
        Files.writeString(file, config(b.address(), "B"));
        Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get(client, uri("web", "/f")).body().equals("beta GET /f"));
        // A broken edit is refused; the running config stays.
        Files.writeString(file, "listeners: [\n");
        Thread.sleep(1000);
        assertThat(get(client, uri("web", "/f")).body()).isEqualTo("beta GET /f");
        // ... and the watcher keeps watching: the next good edit applies.
        Files.writeString(file, config(a.address(), "C"));
        Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get(client, uri("web", "/f")).body().equals("alpha GET /f"));
    }

    @Test
    void replacingTheFileByRenameIsSeenToo(@TempDir Path dir) throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        Path file = dir.resolve("portcullis.yaml");
        Files.writeString(file, config(a.address(), "A"));
        process = Portcullis.start(new FileConfigSource(file));
        assertThat(get(client, uri("web", "/f")).body()).isEqualTo("alpha GET /f");
        // As editors and config management tools do: write a temporary file, rename it over the config.
        Path tmp = dir.resolve(".portcullis.yaml.swp");
        Files.writeString(tmp, config(b.address(), "B"));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get(client, uri("web", "/f")).body().equals("beta GET /f"));
    }

    /**
     * A Kubernetes ConfigMap volume: portcullis.yaml -> ..data/portcullis.yaml, ..data -> ..v1; an update writes
     * ..v2 and renames a new ..data symlink over the old one. No event names portcullis.yaml itself.
     */
    @Test
    void seesAConfigMapStyleSymlinkSwap(@TempDir Path dir) throws Exception {
        TestBackend a = backend("alpha");
        TestBackend b = backend("beta");
        Files.createDirectory(dir.resolve("..v1"));
        Files.writeString(dir.resolve("..v1/portcullis.yaml"), config(a.address(), "A"));
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        Path file = dir.resolve("portcullis.yaml");
        Files.createSymbolicLink(file, Path.of("..data/portcullis.yaml"));
        process = Portcullis.start(new FileConfigSource(file));
        assertThat(get(client, uri("web", "/k")).body()).isEqualTo("alpha GET /k");

        Files.createDirectory(dir.resolve("..v2"));
        Files.writeString(dir.resolve("..v2/portcullis.yaml"), config(b.address(), "B"));
        Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..v2"));
        Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get(client, uri("web", "/k")).body().equals("beta GET /k"));
    }

    @Test
    void aRemovedListenerLetsItsRequestInFlightFinish() throws Exception {
        java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
        TestBackend slow = TestBackend.start("slow", ex -> {
            TestBackend.drain(ex);
            arrived.countDown();
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "slow done".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        });
        closeLater.add(slow);
        String one = config(slow.address(), "A");
        String two = one.replace("upstreams:\n", """
                  - name: extra
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                """);
        start(two);
        int extraPort = process.listenerAddress("extra").getPort();
        var inFlight = client.sendAsync(HttpRequest.newBuilder(uri("extra", "/slow")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(reload(one)).isInstanceOf(ReloadOutcome.Applied.class);
        Awaitility.await().atMost(Duration.ofSeconds(2)).untilAsserted(() ->
                assertThatThrownBy(() -> new Socket("127.0.0.1", extraPort).close()).isInstanceOf(ConnectException.class));
        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
    }

    @Test
    void refusesAReloadWhoseNewListenerCannotBindAndKeepsEverythingElse() throws Exception {
        TestBackend a = backend("alpha");
        String one = config(a.address(), "A");
        start(one);
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            String next = config(a.address(), "B").replace("upstreams:\n", """
                      - name: fresh
                        bind: 127.0.0.1:0
                        routes:
                          - respond: { status: 200, body: fresh }
                      - name: blocked
                        bind: %s
                        routes:
                          - respond: { status: 200, body: blocked }
                    upstreams:
                    """.formatted(address));
            ReloadOutcome outcome = reload(next);
            assertThat(outcome).isInstanceOf(ReloadOutcome.Refused.class);
            assertThat(((ReloadOutcome.Refused) outcome).errors()).anySatisfy(e -> assertThat(e).contains(address));
            assertThat(process.listenerAddress("fresh")).isNull();
            assertThat(process.listenerAddress("blocked")).isNull();
            HttpResponse<String> r = get(client, uri("web", "/x"));
            assertThat(r.headers().firstValue("X-Config")).hasValue("A");
        }
    }
}
