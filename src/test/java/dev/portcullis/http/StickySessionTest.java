package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code sticky}: a proxy-set cookie pins a client to an endpoint, survives reloads, re-pins when it must. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StickySessionTest {
    private static final String ID = "[A-Za-z0-9_-]{16}";
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<TestBackend> backends = new ArrayList<>();
    private TestProxy proxy;

    /** A response: which backend answered, and the sticky Set-Cookie header (null when none was set). */
    private record Answer(int status, String backend, String setCookie) {
        String value() {
            String pair = setCookie.substring(0, setCookie.indexOf(';'));
            return pair.substring(pair.indexOf('=') + 1);
        }
    }

    @BeforeEach
    void backends() throws Exception {
        for (String n : List.of("b0", "b1", "b2")) {
            backends.add(TestBackend.start(n));
        }
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backends.forEach(TestBackend::close);
    }

    private String yaml(String sticky, String extraUpstreams) {
        String eps = String.join(", ", backends.stream().map(TestBackend::address).toList());
        return """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s], connect_timeout: 2s, sticky: %s }
                %s""".formatted(eps, sticky, extraUpstreams);
    }

    private void restart(String yaml) throws Exception {
        TestProxy old = proxy;
        proxy = null;
        old.close();
        proxy = TestProxy.start(yaml);
    }

    private Answer get(String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("web", "/s")).timeout(Duration.ofSeconds(10));
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        List<String> set = r.headers().allValues("set-cookie");
        assertThat(set).as("at most one Set-Cookie").hasSizeLessThan(2);
        return new Answer(r.statusCode(), r.body().split(" ")[0], set.isEmpty() ? null : set.get(0));
    }

    private Endpoint endpoint(String backendName) {
        Upstream be = proxy.process().snapshot().upstreams().get("be");
        String address = backends.stream().filter(b -> b.name.equals(backendName)).findFirst().orElseThrow().address();
        return be.endpoints().stream().filter(e -> e.label().equals(address)).findFirst().orElseThrow();
    }

    @Test
    void firstResponseSetsAnOpaqueCookieAndTheClientSticks() throws Exception {
        proxy = TestProxy.start(yaml("{ cookie: SRV }", ""));
        Answer first = get(null);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.setCookie()).matches("SRV=" + ID + "; Path=/; HttpOnly; SameSite=Lax");
        String id = first.value();
        for (TestBackend b : backends) {
            String encoded = Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(b.address().getBytes(StandardCharsets.UTF_8));
            assertThat(id).doesNotContain("127.0.0.1").doesNotContain(":").isNotEqualTo(encoded.substring(0, 16));
        }
        for (int i = 0; i < 50; i++) {
            // Among other cookies, in the middle of the header: parsed, and the pin holds without a new cookie.
            Answer a = get("a=1; SRV=" + id + "; b=\"2\"");
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.backend()).as("request %d", i).isEqualTo(first.backend());
            assertThat(a.setCookie()).as("no new cookie while the pin holds").isNull();
        }
        // New clients are balanced as usual (round robin over 3) and each gets its own endpoint's id.
        Set<String> backendsSeen = new HashSet<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            Answer a = get(null);
            backendsSeen.add(a.backend());
            ids.add(a.value());
        }
        assertThat(backendsSeen).hasSize(3);
        assertThat(ids).hasSize(3).contains(id);
    }

    @Test
    void pinSurvivesReloads() throws Exception {
        proxy = TestProxy.start(yaml("{ cookie: SRV }", ""));
        Answer first = get(null);
        String cookie = "SRV=" + first.value();
        for (String next : List.of(
                yaml("{ cookie: SRV }", ""),
                // another upstream added and changed: the sticky one is kept as it is
                yaml("{ cookie: SRV }", "  other: { endpoints: [127.0.0.1:9] }\n"),
                yaml("{ cookie: SRV }", "  other: { endpoints: [127.0.0.1:9], connect_timeout: 1s }\n"),
                // the sticky upstream itself recompiled: the ids come from the same key, so they hold
                yaml("{ cookie: SRV }", "").replace("connect_timeout: 2s", "connect_timeout: 3s"))) {
            ReloadOutcome outcome = proxy.reload(next);
            assertThat(outcome).isInstanceOf(ReloadOutcome.Applied.class);
            for (int i = 0; i < 10; i++) {
                Answer a = get(cookie);
                assertThat(a.backend()).isEqualTo(first.backend());
                assertThat(a.setCookie()).isNull();
            }
        }
    }

    @Test
    void forgedOrGarbageCookieIsRepinnedWithoutError() throws Exception {
        proxy = TestProxy.start(yaml("{ cookie: SRV }", ""));
        for (String forged : List.of("SRV=garbage", "SRV=AAAAAAAAAAAAAAAA", "SRV=", "SRV=\"\"", "SRV=" + "x".repeat(5000),
                "SRV=%00%ff;;; ;")) {
            Answer a = get(forged);
            assertThat(a.status()).as(forged).isEqualTo(200);
            assertThat(a.setCookie()).as(forged).matches("SRV=" + ID + "; .*");
            assertThat(get("SRV=" + a.value()).backend()).isEqualTo(a.backend());
        }
    }

    @Test
    void stoppedBackendIsRepinnedToALiveOne() throws Exception {
        proxy = TestProxy.start(yaml("{ cookie: SRV }", ""));
        Answer first = get(null);
        backends.stream().filter(b -> b.name.equals(first.backend())).findFirst().orElseThrow().close();
        Answer moved = get("SRV=" + first.value());
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.backend()).isNotEqualTo(first.backend());
        assertThat(moved.setCookie()).as("re-pinned").matches("SRV=" + ID + "; .*");
        assertThat(moved.value()).isNotEqualTo(first.value());
        for (int i = 0; i < 10; i++) {
            Answer a = get("SRV=" + moved.value());
            assertThat(a.backend()).isEqualTo(moved.backend());
            assertThat(a.setCookie()).isNull();
        }
    }

    @Test
    void drainedBackendIsRepinnedAndTheOldPinHoldsAgainAfterUndrain() throws Exception {
        proxy = TestProxy.start(yaml("{ cookie: SRV }", ""));
        Answer first = get(null);
        Upstream be = proxy.process().snapshot().upstreams().get("be");
        Endpoint pinned = endpoint(first.backend());
        pinned.state().drained(true);
        be.refresh();
        Answer moved = get("SRV=" + first.value());
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.backend()).isNotEqualTo(first.backend());
        assertThat(moved.value()).isNotEqualTo(first.value());
        pinned.state().drained(false);
        be.refresh();
        Answer back = get("SRV=" + first.value());
        assertThat(back.backend()).isEqualTo(first.backend());
        assertThat(back.setCookie()).isNull();
    }

    @Test
    void ttlGivesMaxAgeAndASharedSecretGivesTheSameIdsInAnotherProcess() throws Exception {
        String sticky = "{ cookie: SRV, ttl: 1h, secret: a-shared-secret-of-32-characters }";
        proxy = TestProxy.start(yaml(sticky, ""));
        Answer first = get(null);
        assertThat(first.setCookie()).matches("SRV=" + ID + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600");
        // Another instance (or a restart) with the same secret and endpoints honours the cookie.
        restart(yaml(sticky, ""));
        for (int i = 0; i < 5; i++) {
            Answer a = get("SRV=" + first.value());
            assertThat(a.backend()).isEqualTo(first.backend());
            assertThat(a.setCookie()).isNull();
        }
        // A different secret: the old cookie is unknown, so the client is re-pinned.
        restart(yaml(sticky.replace("a-shared", "other-sh"), ""));
        assertThat(get("SRV=" + first.value()).setCookie()).isNotNull();
    }
}
