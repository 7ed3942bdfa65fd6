package dev.portcullis.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.TestProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The proxy serving from its cache: black-box, a real origin that counts what reaches it. */
class CacheProxyTest {
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    static String yaml(CountingOrigin origin, String routeExtra) {
        return yaml(origin.address(), routeExtra);
    }

    static String yaml(String originAddress, String routeExtra) {
        return """
                caches:
                  default: { memory: 64MiB, max_object_size: 8MiB }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                        cache: default
                %s
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(routeExtra.indent(8).stripTrailing(), originAddress);
    }

    static HttpResponse<String> get(TestProxy p, String path, String... headers) throws Exception {
        return send(p, "GET", path, headers);
    }

    static HttpResponse<String> send(TestProxy p, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String cacheStatus(HttpResponse<?> r) {
        return r.headers().firstValue("Cache-Status").orElse("");
    }

    @Test
    void aStorableResponseIsStoredOnTheMissAndServedFromTheCacheAfter() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("hello " + r.uri(),
                "Cache-Control", "max-age=60", "Content-Type", "text/plain"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> first = get(p, "/a");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("hello /a");
            assertThat(cacheStatus(first)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; stored");
            HttpResponse<String> second = get(p, "/a");
            assertThat(second.body()).isEqualTo("hello /a");
            assertThat(second.headers().firstValue("Content-Type")).hasValue("text/plain");
            assertThat(cacheStatus(second)).startsWith("portcullis; hit; ttl=");
            assertThat(second.headers().firstValue("Age")).isPresent();
            assertThat(origin.count("GET /a")).isEqualTo(1);
            // another URI is another object
            assertThat(get(p, "/a?x=1").body()).isEqualTo("hello /a?x=1");
            assertThat(origin.total()).isEqualTo(2);
        }
    }

    @Test
    void aResponseThatMayNotBeStoredGoesUpstreamEveryTimeAndSaysWhy() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("x", "Cache-Control", "no-store"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/n"))).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=no-store");
            assertThat(cacheStatus(get(p, "/n"))).contains("fwd=uri-miss");
            assertThat(origin.count("GET /n")).isEqualTo(2);
        }
    }

    @Test
    void setCookieIsNeverReplayedFromTheCache() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("c", "Cache-Control", "public, max-age=60",
                "Set-Cookie", "session=alice"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> first = get(p, "/c");
            assertThat(first.headers().firstValue("Set-Cookie")).hasValue("session=alice");
            HttpResponse<String> hit = get(p, "/c");
            assertThat(cacheStatus(hit)).contains("hit");
            assertThat(hit.headers().firstValue("Set-Cookie")).isEmpty();
        }
    }

    @Test
    void headIsAnsweredFromAStoredGetAndAHeadMissStoresTheGet() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("0123456789", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> headMiss = send(p, "HEAD", "/h");
            assertThat(headMiss.statusCode()).isEqualTo(200);
            assertThat(headMiss.body()).isEmpty();
            assertThat(headMiss.headers().firstValue("Content-Length")).hasValue("10");
            assertThat(origin.count("GET /h")).isEqualTo(1); // converted, as nginx's proxy_cache_convert_head
            assertThat(origin.count("HEAD /h")).isZero();
            HttpResponse<String> getHit = get(p, "/h");
            assertThat(getHit.body()).isEqualTo("0123456789");
            assertThat(cacheStatus(getHit)).contains("hit");
            HttpResponse<String> headHit = send(p, "HEAD", "/h");
            assertThat(headHit.body()).isEmpty();
            assertThat(headHit.headers().firstValue("Content-Length")).hasValue("10");
            assertThat(cacheStatus(headHit)).contains("hit");
            assertThat(origin.total()).isEqualTo(1);
        }
    }

    @Test
    void varyKeepsOneVariantPerRequestHeaderValue() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("lang=" + r.header("Accept-Language"),
                "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/v", "Accept-Language", "en").body()).isEqualTo("lang=en");
            HttpResponse<String> otherVariant = get(p, "/v", "Accept-Language", "fr");
            assertThat(otherVariant.body()).isEqualTo("lang=fr");
            assertThat(cacheStatus(otherVariant)).startsWith("portcullis; fwd=vary-miss; fwd-status=200; stored");
            HttpResponse<String> en = get(p, "/v", "Accept-Language", "en");
            HttpResponse<String> fr = get(p, "/v", "Accept-Language", "fr");
            assertThat(en.body()).isEqualTo("lang=en");
            assertThat(fr.body()).isEqualTo("lang=fr");
            assertThat(cacheStatus(en)).contains("hit");
            assertThat(cacheStatus(fr)).contains("hit");
            assertThat(origin.count("GET /v")).isEqualTo(2);
        }
    }

    @Test
    void aLargeBodyIsStoredAndServedByteForByte() throws Exception {
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(big);
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("", "Cache-Control", "max-age=60").body(big));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<byte[]> r = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/big")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(r.body()).isEqualTo(big);
            }
            assertThat(origin.count("GET /big")).isEqualTo(1);
        }
    }

    @Test
    void overMaxObjectSizeIsProxiedButNotStored() throws Exception {
        byte[] big = new byte[9 * 1024 * 1024];
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("", "Cache-Control", "max-age=60").body(big));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<byte[]> r = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/huge")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(r.body()).hasSize(big.length);
                assertThat(r.headers().firstValue("Cache-Status").orElse("")).contains("detail=too-large");
            }
            assertThat(origin.count("GET /huge")).isEqualTo(2);
        }
    }

    @Test
    void fiftyConcurrentMissesMakeOneOriginRequest() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("collapsed body", "Cache-Control",
                "max-age=60").delay(700));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(c.sendAsync(HttpRequest.newBuilder(p.uri("web", "/hot")).timeout(Duration.ofSeconds(30))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            int collapsed = 0;
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("collapsed body");
                if (cacheStatus(r).contains("collapsed")) {
                    collapsed++;
                }
            }
            assertThat(origin.count("GET /hot")).isEqualTo(1);
            assertThat(collapsed).isPositive();
        }
    }

    @Test
    void theCacheCountsHitsAndMissesInMetrics() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("m", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/m");
            get(p, "/m");
            get(p, "/m");
            String metrics = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("portcullis_cache_hits_total{zone=\"default\"} 2.0")
                    .contains("portcullis_cache_misses_total{zone=\"default\"} 1.0");
        }
    }

    @Test
    void aReloadKeepsAnUnchangedZoneAndItsObjects() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("r", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            assertThat(p.reload(yaml(origin, "timeout: 20s")).toString()).contains("Applied");
            assertThat(cacheStatus(get(p, "/r"))).contains("hit");
            // a changed zone starts empty
            assertThat(p.reload(yaml(origin, "").replace("64MiB", "32MiB")).toString()).contains("Applied");
            assertThat(cacheStatus(get(p, "/r"))).contains("fwd=uri-miss");
            assertThat(origin.count("GET /r")).isEqualTo(2);
        }
    }

    @Test
    void anUpstreamFailureIsNotStoredAndTheProxyKeepsServing() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> r.uri().equals("/down")
                ? Reply.ok("boom").status(500) : Reply.ok("ok", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/down").statusCode()).isEqualTo(500);
            assertThat(get(p, "/down").statusCode()).isEqualTo(500);
            assertThat(origin.count("GET /down")).isEqualTo(2);
            assertThat(get(p, "/up").body()).isEqualTo("ok");
        }
    }

    @Test
    void theClientsConditionalsAreAnsweredFromTheCache() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("etagged", "Cache-Control", "max-age=60",
                "ETag", "\"v1\"", "Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/e");
            HttpResponse<String> inm = get(p, "/e", "If-None-Match", "\"v1\"");
            assertThat(inm.statusCode()).isEqualTo(304);
            assertThat(inm.body()).isEmpty();
            assertThat(inm.headers().firstValue("ETag")).hasValue("\"v1\"");
            assertThat(cacheStatus(inm)).contains("hit");
            assertThat(get(p, "/e", "If-None-Match", "\"v2\"").statusCode()).isEqualTo(200);
            assertThat(get(p, "/e", "If-Modified-Since", "Tue, 02 Jan 2024 00:00:00 GMT").statusCode())
                    .isEqualTo(304);
            assertThat(get(p, "/e", "If-Modified-Since", "Sun, 31 Dec 2023 00:00:00 GMT").body())
                    .isEqualTo("etagged");
            assertThat(origin.count("GET /e")).isEqualTo(1);
            // If-Match is the origin's to evaluate
            HttpResponse<String> ifMatch = get(p, "/e", "If-Match", "\"v1\"");
            assertThat(cacheStatus(ifMatch)).contains("fwd=request");
            assertThat(origin.count("GET /e")).isEqualTo(2);
        }
    }

    @Test
    void aSingleRangeIsCutFromTheStoredResponseAndARangeMissStoresNothing() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            String range = r.header("Range");
            if (range != null && range.equals("bytes=0-3")) {
                return Reply.ok("0123", "Cache-Control", "max-age=60", "Content-Range", "bytes 0-3/10").status(206);
            }
            return Reply.ok("0123456789", "Cache-Control", "max-age=60");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> rangeMiss = get(p, "/r", "Range", "bytes=0-3");
            assertThat(rangeMiss.statusCode()).isEqualTo(206);
            assertThat(rangeMiss.body()).isEqualTo("0123");
            assertThat(cacheStatus(rangeMiss)).contains("fwd=uri-miss").contains("detail=partial-content");
            assertThat(get(p, "/r").body()).isEqualTo("0123456789"); // the 206 was not stored
            assertThat(origin.count("GET /r")).isEqualTo(2);
            HttpResponse<String> part = get(p, "/r", "Range", "bytes=2-4");
            assertThat(part.statusCode()).isEqualTo(206);
            assertThat(part.body()).isEqualTo("234");
            assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 2-4/10");
            assertThat(cacheStatus(part)).contains("hit");
            HttpResponse<String> suffix = get(p, "/r", "Range", "bytes=-3");
            assertThat(suffix.body()).isEqualTo("789");
            HttpResponse<String> bad = get(p, "/r", "Range", "bytes=50-60");
            assertThat(bad.statusCode()).isEqualTo(416);
            assertThat(bad.headers().firstValue("Content-Range")).hasValue("bytes */10");
            assertThat(origin.count("GET /r")).isEqualTo(2);
            assertThat(get(p, "/r").statusCode()).isEqualTo(200); // still serving after a bad range
        }
    }

    @Test
    void requestDirectivesAreHonoured() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("d", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> onlyIfCached = get(p, "/d", "Cache-Control", "only-if-cached");
            assertThat(onlyIfCached.statusCode()).isEqualTo(504);
            assertThat(origin.count("GET /d")).isZero();
            get(p, "/d");
            assertThat(get(p, "/d", "Cache-Control", "only-if-cached").statusCode()).isEqualTo(200);
            // no-cache from the client: not served without the origin (fetched again and stored anew)
            HttpResponse<String> noCache = get(p, "/d", "Cache-Control", "no-cache");
            assertThat(cacheStatus(noCache)).contains("fwd=request").contains("stored");
            assertThat(origin.count("GET /d")).isEqualTo(2);
            assertThat(cacheStatus(get(p, "/d"))).contains("hit");
            assertThat(origin.count("GET /d")).isEqualTo(2);
        }
    }

    @Test
    void http2ClientsGetHitsToo() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("over h2", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            String url = "http://127.0.0.1:" + p.port("web") + "/h2";
            assertThat(curl("--http2-prior-knowledge", url)).contains("over h2").contains("fwd=uri-miss");
            String hit = curl("--http2-prior-knowledge", url);
            assertThat(hit).contains("over h2").contains("cache-status: portcullis; hit").endsWith("2 200");
            assertThat(curl("--http2-prior-knowledge", "-I", url)).contains("cache-status: portcullis; hit")
                    .contains("content-length: 7");
            assertThat(origin.count("GET /h2")).isEqualTo(1);
        }
    }

    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "-o", "-", "-w", "\\n%{http_version} %{response_code}"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return out.replace("\r", "");
    }

    /** RFC 9111 section 4.4: an unsafe method answered 2xx/3xx drops the stored target and its Location. */
    @Test
    void anUnsafeMethodInvalidatesItsTargetAndItsSameOriginLocation() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> switch (r.method()) {
                case "POST" -> Reply.ok("made", "Location", "/items/1").status(201);
                case "DELETE" -> Reply.ok("").status(500);
                default -> Reply.ok("v " + r.uri(), "Cache-Control", "max-age=60");
            });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/items");
            get(p, "/items/1");
            get(p, "/other");
            assertThat(cacheStatus(get(p, "/items"))).contains("hit");
            assertThat(send(p, "POST", "/items").statusCode()).isEqualTo(201);
            assertThat(cacheStatus(get(p, "/items"))).as("the POST's target").contains("fwd=uri-miss");
            assertThat(cacheStatus(get(p, "/items/1"))).as("its Location").contains("fwd=uri-miss");
            assertThat(cacheStatus(get(p, "/other"))).as("anything else stays").contains("hit");
            // a failed unsafe request changes nothing
            assertThat(send(p, "DELETE", "/other").statusCode()).isEqualTo(500);
            assertThat(cacheStatus(get(p, "/other"))).contains("hit");
            assertThat(origin.count("GET /items")).isEqualTo(2);
            assertThat(origin.count("GET /items/1")).isEqualTo(2);
            assertThat(origin.count("GET /other")).isEqualTo(1);
        }
    }

    static HttpResponse<String> purge(TestProxy p, String json) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/api/v1/cache/purge"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theAdminApiPurgesByUrlPrefixAndTag() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("v " + r.uri(), "Cache-Control", "max-age=60",
                "Surrogate-Key", r.uri().startsWith("/t/") ? "blue shared" : "other",
                "Vary", "Accept-Language"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (String path : List.of("/u/1", "/s/a", "/s/b", "/t/1", "/t/2", "/keep")) {
                get(p, path);
            }
            get(p, "/u/1", "Accept-Language", "fr"); // a second variant of /u/1
            String host = "127.0.0.1:" + p.port("web");

            HttpResponse<String> byUrl = purge(p, "{\"url\": \"http://" + host + "/u/1\"}");
            assertThat(byUrl.statusCode()).isEqualTo(200);
            assertThat(byUrl.body()).contains("\"purged\":2"); // both variants
            assertThat(cacheStatus(get(p, "/u/1"))).contains("fwd=uri-miss");

            assertThat(purge(p, "{\"prefix\": \"http://" + host + "/s/\"}").body()).contains("\"purged\":2");
            assertThat(cacheStatus(get(p, "/s/a"))).contains("fwd=uri-miss");

            assertThat(purge(p, "{\"tag\": \"blue\"}").body()).contains("\"purged\":2");
            assertThat(cacheStatus(get(p, "/t/2"))).contains("fwd=uri-miss");
            assertThat(cacheStatus(get(p, "/keep"))).as("untouched by all three").contains("hit");

            // bad input: 400 with a reason, the cache untouched
            assertThat(purge(p, "{\"url\": \"/relative\"}").statusCode()).isEqualTo(400);
            assertThat(purge(p, "{\"url\": \"http://a/\", \"tag\": \"x\"}").statusCode()).isEqualTo(400);
            HttpResponse<String> junk = purge(p, "{not json");
            assertThat(junk.statusCode()).isEqualTo(400);
            assertThat(junk.body()).contains("not valid JSON");
            assertThat(purge(p, "{\"colour\": \"red\"}").body()).contains("unknown key 'colour'");
            assertThat(cacheStatus(get(p, "/keep"))).contains("hit");
        }
    }

    /** A follower waiting on another request's fill longer than idle_timeout gets a 504, and the proxy goes on. */
    @Test
    void aFollowerOutlivedByIdleTimeoutGets504AndTheProxyKeepsServing() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> r.uri().equals("/slow")
                ? Reply.ok("late", "Cache-Control", "max-age=60").delay(1500)
                : Reply.ok("fast", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, "").replace("    bind: 127.0.0.1:0\n",
                     "    bind: 127.0.0.1:0\n    limits: { idle_timeout: 300ms }\n"))) {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(CLIENT.sendAsync(HttpRequest.newBuilder(p.uri("web", "/slow")).timeout(Duration.ofSeconds(20))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertThat(f.get().statusCode()).isEqualTo(504);
            }
            assertThat(get(p, "/fast").body()).isEqualTo("fast");
        }
    }
}
