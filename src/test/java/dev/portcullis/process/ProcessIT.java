package dev.portcullis.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ChildProxy;
import dev.portcullis.testing.TestBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar as users run it: commands, exit codes, signals, file reloads, the admin API. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessIT {
    private static final Duration START = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : closeLater) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T later(T c) {
        closeLater.add(0, c);
        return c;
    }

    private ChildProxy run(Path config) throws IOException {
        return later(ChildProxy.start(dir, List.of(), "run", "-c", config.toString()));
    }

    private static String config(String upstream, String tag, String admin) {
        return """
                access_log: { path: off }
                shutdown_timeout: 10s
                admin: %s
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: main
                        match: { path_prefix: / }
                        headers: { response: { set: { X-Config: %s } } }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(admin, tag, upstream);
    }

    private static String config(String upstream, String tag) {
        return config(upstream, tag, "{ bind: 127.0.0.1:0 }");
    }

    private HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url) throws Exception {
        return get(url, null);
    }

    // ---- commands ----

    @Test
    void validateAcceptsAGoodFile() throws Exception {
        Files.writeString(dir.resolve("good.yaml"), config("127.0.0.1:9", "A"));
        ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "validate", "-c", "good.yaml");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("good.yaml: ok");
    }

    @Test
    void validatePrintsEveryErrorAndExitsOne() throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), """
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes:
                      - match: { pathprefix: / }
                        upstream: bakend
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """);
        ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "validate", "-c", "bad.yaml");
        assertThat(r.exit()).isEqualTo(1);
        List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).containsExactly(
                "bad.yaml:5: listeners[0].routes[0].match.pathprefix: unknown key 'pathprefix'; did you mean 'path_prefix'?",
                "bad.yaml:6: listeners[0].routes[0].upstream: unknown upstream 'bakend'; did you mean 'backend'?");
    }

    @Test
    void versionAndHelpExitZero() throws Exception {
        ChildProxy.Result version = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.stdout()).startsWith("portcullis ");
        ChildProxy.Result help = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.stdout()).contains("run").contains("validate").contains("demo");
    }

    @Test
    void refusesToStartWhenTheListenerPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path cfg = dir.resolve("taken.yaml");
            Files.writeString(cfg, config("127.0.0.1:9", "A").replace("bind: 127.0.0.1:0\n    routes",
                    "bind: " + address + "\n    routes"));
            assertThat(Files.readString(cfg)).contains("bind: " + address);
            ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "run", "-c", cfg.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.stderr()).contains(address);
        }
    }

    @Test
    void runWithoutAConfigExitsNonZeroAndSaysWhy() throws Exception {
        ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "run");
        assertThat(r.exit()).isNotZero();
        assertThat(r.stderr()).contains("no config");
    }

    @Test
    void aMissingConfigFileIsOneLineNotAStackTrace() throws Exception {
        for (String command : new String[] {"run", "validate"}) {
            ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), command, "-c", "missing.yaml");
            assertThat(r.exit()).as(command).isEqualTo(1);
            assertThat(r.stderr()).as(command).contains("no such file: missing.yaml").doesNotContain("\tat ");
        }
    }

    @Test
    void refusesToStartWhenTheAdminPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path cfg = dir.resolve("taken.yaml");
            Files.writeString(cfg, config("127.0.0.1:9", "A", "{ bind: " + address + " }"));
            ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "run", "-c", cfg.toString());
            assertThat(r.exit()).isNotZero();
            assertThat(r.stderr()).contains("admin").contains(address);
        }
    }

    @Test
    void runWithABadConfigExitsOneWithItsErrors() throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), config("127.0.0.1:9", "A").replace("upstream: be", "upstream: nope"));
        ChildProxy.Result r = ChildProxy.runToEnd(dir, Duration.ofSeconds(20), "run", "-c", "bad.yaml");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stderr()).contains("bad.yaml:11: listeners[0].routes[0].upstream: unknown upstream 'nope'");
    }

    // ---- running ----

    /** A backend that counts the request in, then takes 1.5 s to answer "slow done". */
    private static TestBackend slowBackend(CountDownLatch arrived) throws java.io.IOException {
        return TestBackend.start("slow", ex -> {
            TestBackend.drain(ex);
            arrived.countDown();
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "slow done".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        });
    }

    /** A second SIGTERM (or a SIGINT after it) while draining must not cut the drain short. */
    @Test
    void aSecondSignalWhileDrainingDoesNotCutTheRequestInFlight() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend slow = later(slowBackend(arrived));
        Path cfg = dir.resolve("portcullis.yaml");
        Files.writeString(cfg, config(slow.address(), "A"));
        ChildProxy child = run(cfg);
        int port = child.listenerPort("web", START);
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
        child.signal("TERM");
        child.awaitOutput("draining", Duration.ofSeconds(5));
        child.signal("TERM");
        Thread.sleep(100);
        child.signal("INT");
        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
        assertThat(child.awaitExit(Duration.ofSeconds(15))).as(child.stderr()).isZero();
    }

    @Test
    void sigtermGivesUpOnSlowRequestsAfterShutdownTimeoutAndStillExitsZero() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend stuck = later(TestBackend.start("stuck", ex -> {
            TestBackend.drain(ex);
            arrived.countDown();
            try {
                Thread.sleep(20_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        Path cfg = dir.resolve("portcullis.yaml");
        Files.writeString(cfg, config(stuck.address(), "A").replace("shutdown_timeout: 10s", "shutdown_timeout: 1s"));
        ChildProxy child = run(cfg);
        int port = child.listenerPort("web", START);
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stuck"))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        child.signal("TERM");
        assertThat(child.awaitExit(Duration.ofSeconds(10))).as(child.stderr()).isZero();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("exit after shutdown_timeout 1s").isBetween(900L, 6000L);
        assertThat(child.stderr()).contains("shutdown_timeout reached");
        assertThat(inFlight).failsWithin(Duration.ofSeconds(5));
    }

    @Test
    void reloadsOnSighupAndWhenTheFileChanges() throws Exception {
        TestBackend a = later(TestBackend.start("alpha"));
        TestBackend b = later(TestBackend.start("beta"));
        Path cfg = dir.resolve("portcullis.yaml");
        Files.writeString(cfg, config(a.address(), "A"));
        ChildProxy child = later(ChildProxy.start(dir, List.of(), "run", "-c", "portcullis.yaml"));
        String web = "http://127.0.0.1:" + child.listenerPort("web", START) + "/r";
        assertThat(get(web).body()).isEqualTo("alpha GET /r");

        // SIGHUP after changing the file (the watcher may reload too; the SIGHUP reload must happen).
        Files.writeString(cfg, config(b.address(), "B"));
        child.signal("HUP");
        child.awaitOutput("config reloaded (SIGHUP)", Duration.ofSeconds(5));
        HttpResponse<String> r = get(web);
        assertThat(r.body()).isEqualTo("beta GET /r");
        assertThat(r.headers().firstValue("X-Config")).hasValue("B");

        // An edit on disk, no signal: in effect within about 2 s.
        int before = child.countInStderr("config reloaded (file change)");
        long t0 = System.nanoTime();
        Files.writeString(cfg, config(a.address(), "C"));
        Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> "C".equals(get(web).headers().firstValue("X-Config").orElse("")));
        System.out.printf("ProcessIT: file edit took effect after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(get(web).body()).isEqualTo("alpha GET /r");
        assertThat(child.countInStderr("config reloaded (file change)")).isGreaterThan(before);

        // A broken edit is refused with its errors; the running config stays.
        Files.writeString(cfg, config(a.address(), "D").replace("upstream: be", "upstream: nope"));
        child.awaitOutput("refused", Duration.ofSeconds(5));
        child.awaitOutput("portcullis.yaml:11: listeners[0].routes[0].upstream: unknown upstream 'nope'", Duration.ofSeconds(2));
        assertThat(get(web).headers().firstValue("X-Config")).hasValue("C");
        assertThat(child.process.isAlive()).isTrue();
    }

    @Test
    void sigtermLetsTheRequestInFlightFinishRefusesNewConnectionsAndExitsZero() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend slow = later(slowBackend(arrived));
        Path cfg = dir.resolve("portcullis.yaml");
        Files.writeString(cfg, config(slow.address(), "A"));
        ChildProxy child = run(cfg);
        int port = child.listenerPort("web", START);
        int admin = child.adminPort(START);
        assertThat(get("http://127.0.0.1:" + admin + "/readyz").statusCode()).isEqualTo(200);

        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).as("request reached the backend").isTrue();
        long t0 = System.nanoTime();
        child.signal("TERM");

        // New connections are refused at once, while the slow request is still running.
        Awaitility.await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return false;
            } catch (ConnectException e) {
                return true;
            }
        });
        HttpResponse<String> ready = get("http://127.0.0.1:" + admin + "/readyz");
        assertThat(inFlight).as("still in flight when new connections are refused").isNotDone();
        assertThat(ready.statusCode()).as("/readyz while draining").isEqualTo(503);

        HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
        assertThat(child.awaitExit(Duration.ofSeconds(15))).as(child.stderr()).isZero();
        System.out.printf("ProcessIT: SIGTERM to exit took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(child.stderr()).contains("SIGTERM: stopping gracefully").contains("stopped");
    }

    @Test
    void adminHealthReadinessMetricsAndToken() throws Exception {
        TestBackend a = later(TestBackend.start("alpha"));
        Path cfg = dir.resolve("portcullis.yaml");
        Files.writeString(cfg, config(a.address(), "A", "{ bind: 127.0.0.1:0, token: s3cret }"));
        ChildProxy child = later(ChildProxy.start(dir, List.of(), "run")); // no -c: ./portcullis.yaml
        int port = child.listenerPort("web", START);
        String admin = "http://127.0.0.1:" + child.adminPort(START);
        assertThat(get("http://127.0.0.1:" + port + "/m").statusCode()).isEqualTo(200);

        assertThat(get(admin + "/healthz").statusCode()).as("healthz needs no token").isEqualTo(200);
        assertThat(get(admin + "/healthz").body()).isEqualTo("ok\n");
        HttpResponse<String> noToken = get(admin + "/metrics");
        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThat(noToken.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(get(admin + "/readyz").statusCode()).isEqualTo(401);
        assertThat(get(admin + "/metrics", "wrong").statusCode()).isEqualTo(401);
        assertThat(get(admin + "/readyz", "s3cret").statusCode()).isEqualTo(200);

        HttpResponse<String> metrics = get(admin + "/metrics", "s3cret");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body())
                .contains("portcullis_requests_total{listener=\"web\",route=\"main\",status=\"2xx\",upstream=\"be\"} 1.0")
                .contains("jvm_memory_used_bytes")
                .containsPattern("(?m)^jvm_\\w+");
        HttpResponse<String> reload = client.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).isEqualTo(401);
        HttpResponse<String> reloadWithToken = client.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/reload"))
                .header("Authorization", "Bearer s3cret")
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reloadWithToken.statusCode()).isEqualTo(200);
        assertThat(reloadWithToken.body()).contains("\"status\":\"reloaded\"");
        assertThat(get(admin + "/metrics", "s3cret").body()).contains("portcullis_config_reloads_total{result=\"ok\"} 1.0");
    }
}
