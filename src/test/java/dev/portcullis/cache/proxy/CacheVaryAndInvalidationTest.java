package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheDirectivesTest.STORED;
import static dev.portcullis.cache.proxy.CacheDirectivesTest.VARY_STORED;
import static dev.portcullis.cache.proxy.CacheProxyTest.CLIENT;
import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static dev.portcullis.cache.proxy.CacheProxyTest.get;
import static dev.portcullis.cache.proxy.CacheProxyTest.purge;
import static dev.portcullis.cache.proxy.CacheProxyTest.send;
import static dev.portcullis.cache.proxy.CacheProxyTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.Decoders;
import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Vary (with compression on the route), invalidation after unsafe methods, the Cache-Status field and purging a URL
 * with variants, through the proxy's sockets against an origin that counts requests.
 */
class CacheVaryAndInvalidationTest {
    private static final String HIT = "portcullis; hit; ttl=\\d+";

    // ---- Vary ----

    @Test
    void varyStarIsNeverServedFromTheCache() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("any", "Cache-Control", "public, max-age=60",
                "Vary", "*"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 1; i <= 2; i++) {
                HttpResponse<String> r = get(p, "/star");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("any");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=vary-star");
                assertThat(origin.count("GET /star")).isEqualTo(i);
            }
        }
    }

    @Test
    void varyOnTwoHeadersKeepsOneVariantPerPairOfValues() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok(r.header("Accept-Language") + "/"
                + r.header("X-Device"), "Cache-Control", "max-age=60", "Vary", "Accept-Language, X-Device"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            String[][] variants = {{"en", "mobile"}, {"en", "desktop"}, {"fr, de", "mobile"}};
            for (int i = 0; i < variants.length; i++) {
                String[] v = variants[i];
                HttpResponse<String> miss = get(p, "/v2", "Accept-Language", v[0], "X-Device", v[1]);
                assertThat(miss.body()).isEqualTo(v[0] + "/" + v[1]);
                assertThat(cacheStatus(miss)).isEqualTo(i == 0 ? STORED : VARY_STORED);
            }
            for (String[] v : variants) {
                HttpResponse<String> hit = get(p, "/v2", "Accept-Language", v[0], "X-Device", v[1]);
                assertThat(hit.statusCode()).isEqualTo(200);
                assertThat(hit.body()).isEqualTo(v[0] + "/" + v[1]);
                assertThat(cacheStatus(hit)).matches(HIT);
            }
            // whitespace around list commas does not make another variant
            HttpResponse<String> spaced = get(p, "/v2", "Accept-Language", "fr,de", "X-Device", "mobile");
            assertThat(spaced.body()).isEqualTo("fr, de/mobile");
            assertThat(cacheStatus(spaced)).matches(HIT);
            assertThat(origin.count("GET /v2")).isEqualTo(3);
            // a header absent from the request is its own variant
            HttpResponse<String> absent = get(p, "/v2", "Accept-Language", "en");
            assertThat(absent.body()).isEqualTo("en/null");
            assertThat(cacheStatus(absent)).isEqualTo(VARY_STORED);
            assertThat(cacheStatus(get(p, "/v2", "Accept-Language", "en"))).matches(HIT);
            // ... and differs from an empty one
            HttpResponse<String> empty = get(p, "/v2", "Accept-Language", "en", "X-Device", "");
            assertThat(empty.body()).isEqualTo("en/");
            assertThat(cacheStatus(empty)).isEqualTo(VARY_STORED);
            assertThat(origin.count("GET /v2")).isEqualTo(5);
        }
    }

    /**
     * docs/caching.md and docs/compression.md: the cache stores the origin's identity body and compression runs on
     * the way out, for hits as for misses, so one stored object serves every Accept-Encoding.
     */
    @Test
    void oneStoredIdentityObjectServesBrotliGzipAndIdentityClients() throws Exception {
        String text = "a compressible line of text\n".repeat(200);
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok(text, "Cache-Control", "max-age=60",
                "Content-Type", "text/plain", "ETag", "\"v1\""));
             TestProxy p = TestProxy.start(yaml(origin, "compress: true"))) {
            HttpResponse<byte[]> br = getBytes(p, "/z", "br");
            assertThat(cacheStatus(br)).isEqualTo(STORED);
            assertEncoded(br, "br", text, "W/\"v1\"");
            HttpResponse<byte[]> gzip = getBytes(p, "/z", "gzip");
            assertThat(cacheStatus(gzip)).matches(HIT);
            assertEncoded(gzip, "gzip", text, "W/\"v1\"");
            HttpResponse<byte[]> browser = getBytes(p, "/z", "gzip, deflate, br, zstd");
            assertThat(cacheStatus(browser)).matches(HIT);
            assertEncoded(browser, "br", text, "W/\"v1\"");
            HttpResponse<byte[]> identity = getBytes(p, "/z", null);
            assertThat(identity.statusCode()).isEqualTo(200);
            assertThat(cacheStatus(identity)).matches(HIT);
            assertThat(identity.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(identity.headers().firstValue("Content-Length")).hasValue(String.valueOf(text.length()));
            assertThat(identity.headers().firstValue("ETag")).hasValue("\"v1\"");
            assertThat(new String(identity.body(), StandardCharsets.UTF_8)).isEqualTo(text);
            assertThat(origin.count("GET /z")).isEqualTo(1);
        }
    }

    /**
     * An origin that says {@code Vary: Accept-Encoding} itself gets one variant per canonical Accept-Encoding (case,
     * order, weights and identity dropped), each still compressed on the way out for its client.
     */
    @Test
    void anOriginsVaryOnAcceptEncodingSplitsOnlyByTheCanonicalForm() throws Exception {
        String text = "a compressible line of text\n".repeat(200);
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok(text, "Cache-Control", "max-age=60",
                "Content-Type", "text/plain", "Vary", "Accept-Encoding"));
             TestProxy p = TestProxy.start(yaml(origin, "compress: true"))) {
            HttpResponse<byte[]> first = getBytes(p, "/ae", "gzip, br");
            assertThat(cacheStatus(first)).isEqualTo(STORED);
            assertEncoded(first, "br", text, null);
            for (String same : new String[] {"br,gzip", "br;q=1.0, gzip;q=0.5", "GZIP, BR, identity"}) {
                HttpResponse<byte[]> r = getBytes(p, "/ae", same);
                assertThat(cacheStatus(r)).as(same).matches(HIT);
                assertEncoded(r, "br", text, null);
            }
            assertThat(origin.count("GET /ae")).isEqualTo(1);
            HttpResponse<byte[]> gzip = getBytes(p, "/ae", "gzip");
            assertThat(cacheStatus(gzip)).as("another set of codings").isEqualTo(VARY_STORED);
            assertEncoded(gzip, "gzip", text, null);
            HttpResponse<byte[]> none = getBytes(p, "/ae", null);
            assertThat(cacheStatus(none)).isEqualTo(VARY_STORED);
            assertThat(none.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(new String(none.body(), StandardCharsets.UTF_8)).isEqualTo(text);
            assertThat(origin.count("GET /ae")).isEqualTo(3);
        }
    }

    private static HttpResponse<byte[]> getBytes(TestProxy p, String path, String acceptEncoding) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(30));
        if (acceptEncoding != null) {
            b.header("Accept-Encoding", acceptEncoding);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** @param etag the ETag expected (the stored strong one made weak), or null when the origin sent none */
    private static void assertEncoded(HttpResponse<byte[]> r, String coding, String text, String etag)
            throws Exception {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Encoding")).hasValue(coding);
        assertThat(r.headers().firstValue("Vary")).hasValueSatisfying(v -> assertThat(v).containsIgnoringCase(
                "Accept-Encoding"));
        assertThat(r.headers().firstValue("ETag")).isEqualTo(Optional.ofNullable(etag));
        assertThat(new String(Decoders.decode(coding, r.body()), StandardCharsets.UTF_8)).isEqualTo(text);
    }

    // ---- invalidation (RFC 9111 section 4.4) ----

    /** The origin: GETs are stored for 60 s; an unsafe method gets the status its path names after the last '/'. */
    private static CountingOrigin invalidationOrigin(Map<String, String> extra) throws Exception {
        return CountingOrigin.start(r -> {
            if (r.method().equals("GET")) {
                return Reply.ok("v " + r.uri(), "Cache-Control", "max-age=60");
            }
            int status = Integer.parseInt(r.uri().substring(r.uri().lastIndexOf('/') + 1));
            String[] pairs = extra.entrySet().stream().flatMap(e -> Stream.of(e.getKey(),
                    e.getValue())).toArray(String[]::new);
            return Reply.ok("done", pairs).status(status);
        });
    }

    @Test
    void anUnsafeMethodAnswered2xxOr3xxInvalidatesItsTarget() throws Exception {
        try (CountingOrigin origin = invalidationOrigin(Map.of());
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            String[][] cases = {{"PUT", "200"}, {"DELETE", "204"}, {"PATCH", "200"}, {"POST", "303"},
                {"POST", "201"}, {"REPORT", "207"}};
            for (String[] c : cases) {
                String path = "/inv/" + c[0] + "/" + c[1];
                assertThat(cacheStatus(get(p, path))).isEqualTo(STORED);
                assertThat(cacheStatus(get(p, path))).matches(HIT);
                HttpResponse<String> unsafe = send(p, c[0], path);
                assertThat(unsafe.statusCode()).as(path).isEqualTo(Integer.parseInt(c[1]));
                assertThat(cacheStatus(unsafe)).as("no Cache-Status on an unsafe method").isEmpty();
                HttpResponse<String> after = get(p, path);
                assertThat(after.body()).isEqualTo("v " + path);
                assertThat(cacheStatus(after)).as(path).isEqualTo(STORED);
                assertThat(origin.count("GET " + path)).as(path).isEqualTo(2);
                assertThat(origin.count(c[0] + " " + path)).as(path).isEqualTo(1);
            }
        }
    }

    @Test
    void anUnsafeMethodAnswered4xxOr5xxInvalidatesNothing() throws Exception {
        try (CountingOrigin origin = invalidationOrigin(Map.of());
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            String[][] cases = {{"PUT", "404"}, {"DELETE", "403"}, {"PATCH", "409"}, {"POST", "400"},
                {"POST", "500"}, {"PUT", "503"}};
            for (String[] c : cases) {
                String path = "/keep/" + c[0] + "/" + c[1];
                assertThat(cacheStatus(get(p, path))).isEqualTo(STORED);
                assertThat(send(p, c[0], path).statusCode()).as(path).isEqualTo(Integer.parseInt(c[1]));
                HttpResponse<String> after = get(p, path);
                assertThat(after.body()).isEqualTo("v " + path);
                assertThat(cacheStatus(after)).as(path).matches(HIT);
                assertThat(origin.count("GET " + path)).as(path).isEqualTo(1);
            }
        }
    }

    @Test
    void aLocationOrContentLocationOnAnotherHostIsNotInvalidated() throws Exception {
        try (CountingOrigin origin = invalidationOrigin(Map.of("Location", "http://other.example/x",
                "Content-Location", "http://other.example/cl"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            int port = p.port("web");
            for (String path : new String[] {"/x", "/cl"}) {
                assertThat(rawCacheStatus(port, "other.example", path)).isEqualTo(STORED);
                assertThat(rawCacheStatus(port, "other.example", path)).matches(HIT);
                assertThat(cacheStatus(get(p, path))).isEqualTo(STORED); // the same paths on the proxy's own host
            }
            assertThat(send(p, "POST", "/items/201").statusCode()).isEqualTo(201);
            for (String path : new String[] {"/x", "/cl"}) {
                assertThat(rawCacheStatus(port, "other.example", path)).as("other.example" + path).matches(HIT);
                assertThat(cacheStatus(get(p, path))).as("same path, our host").matches(HIT);
                assertThat(origin.count("GET " + path)).isEqualTo(2); // once per host
            }
        }
        // the same-origin Content-Location is invalidated (same-origin Location: CacheProxyTest)
        try (CountingOrigin origin = invalidationOrigin(Map.of("Content-Location", "/cl"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/cl"))).isEqualTo(STORED);
            assertThat(send(p, "PUT", "/items/200").statusCode()).isEqualTo(200);
            assertThat(cacheStatus(get(p, "/cl"))).isEqualTo(STORED);
            assertThat(origin.count("GET /cl")).isEqualTo(2);
        }
    }

    /** docs/caching.md: the invalidated URIs go through the route's key shaping, every key extension included. */
    @Test
    void invalidationFollowsTheRoutesKeyShaping() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> r.method().equals("GET")
                ? Reply.ok("v " + r.uri() + " " + r.header("X-Tenant"), "Cache-Control", "max-age=60")
                : Reply.ok("made", "Location", "/loc?b=2&a=1").status(201));
             TestProxy p = TestProxy.start(yaml(origin, "").replace("cache: default",
                     "cache: { zone: default, key: { query: sorted, headers: [X-Tenant] } }"))) {
            String[][] stored = {{"/s?b=2&a=1", "t1"}, {"/s?b=2&a=1", "t2"}, {"/s?b=2&a=1", null},
                {"/loc?a=1&b=2", "t1"}, {"/s?a=1", "t1"}};
            for (String[] s : stored) {
                assertThat(cacheStatus(getAs(p, s[0], s[1]))).as(s[0] + " " + s[1]).isEqualTo(STORED);
            }
            assertThat(cacheStatus(getAs(p, "/s?a=1&b=2", "t1"))).as("sorted: the same key").matches(HIT);
            assertThat(send(p, "POST", "/s?a=1&b=2").statusCode()).isEqualTo(201);
            // the target in every header extension, and its Location (in another parameter order)
            for (String[] s : new String[][] {stored[0], stored[1], stored[2], stored[3]}) {
                HttpResponse<String> r = getAs(p, s[0], s[1]);
                assertThat(r.body()).isEqualTo("v " + s[0] + " " + s[1]);
                assertThat(cacheStatus(r)).as(s[0] + " " + s[1]).isEqualTo(STORED);
            }
            assertThat(cacheStatus(getAs(p, "/s?a=1", "t1"))).as("another query").matches(HIT);
            assertThat(origin.count("GET /s?b=2&a=1")).isEqualTo(6);
            assertThat(origin.count("GET /loc?a=1&b=2")).isEqualTo(2);
            assertThat(origin.count("GET /s?a=1")).isEqualTo(1);
        }
    }

    private static HttpResponse<String> getAs(TestProxy p, String path, String tenant) throws Exception {
        return tenant == null ? get(p, path) : get(p, path, "X-Tenant", tenant);
    }

    /**
     * RFC 9111 section 4.4 says a cache MUST invalidate after an unsafe method's 2xx/3xx. A common configuration
     * caches GET/HEAD on one route and sends writes through another, without {@code cache}.
     */
    @Test
    void anUnsafeMethodOnARouteWithoutCacheStillInvalidatesTheListenersZones() throws Exception {
        try (CountingOrigin origin = invalidationOrigin(Map.of());
             TestProxy p = TestProxy.start("""
                caches:
                  default: { memory: 64MiB }
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: /, methods: [GET, HEAD] }
                        upstream: be
                        cache: default
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(origin.address()))) {
            assertThat(cacheStatus(get(p, "/w/200"))).isEqualTo(STORED);
            assertThat(cacheStatus(get(p, "/w/200"))).matches(HIT);
            assertThat(send(p, "PUT", "/w/200").statusCode()).isEqualTo(200);
            assertThat(cacheStatus(get(p, "/w/200"))).isEqualTo(STORED);
            assertThat(origin.count("GET /w/200")).isEqualTo(2);
        }
    }

    private static final Pattern CACHE_STATUS_LINE = Pattern.compile("(?im)^cache-status: *(.*?)\\r?$");

    /** A GET with the given Host, over a raw socket (the JDK client will not set Host). */
    private static String rawCacheStatus(int port, String host, String path) throws Exception {
        String res = RawHttp.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nConnection: close\r\n\r\n", 10_000);
        assertThat(RawHttp.status(res)).as(res).isEqualTo(200);
        assertThat(res).endsWith("v " + path);
        Matcher m = CACHE_STATUS_LINE.matcher(res);
        assertThat(m.find()).as(res).isTrue();
        return m.group(1);
    }

    // ---- Cache-Status (RFC 9211) ----

    /** Section 2: a cache appends its member after those of the caches nearer the origin. */
    @Test
    void ourCacheStatusMemberFollowsTheUpstreamsOwn() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("o", "Cache-Control", "max-age=60",
                "Cache-Status", "OriginCache; fwd=uri-miss"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/cs").headers().allValues("Cache-Status")).containsExactly(
                    "OriginCache; fwd=uri-miss", STORED);
            List<String> hit = get(p, "/cs").headers().allValues("Cache-Status");
            assertThat(hit).hasSize(2);
            assertThat(hit.get(0)).isEqualTo("OriginCache; fwd=uri-miss");
            assertThat(hit.get(1)).matches(HIT);
            assertThat(origin.count("GET /cs")).isEqualTo(1);
        }
    }

    @Test
    void aCollapsedFollowerSaysSo() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            try {
                release.await(10, TimeUnit.SECONDS); // held until the followers are waiting on this fetch
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Reply.ok("shared fetch", "Cache-Control", "max-age=60");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            CompletableFuture<HttpResponse<String>> leader = async(p, "/co");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (origin.total() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                followers.add(async(p, "/co"));
            }
            Thread.sleep(300); // let them reach the proxy; one that came later would be a plain hit
            release.countDown();
            HttpResponse<String> l = leader.get(20, TimeUnit.SECONDS);
            assertThat(l.body()).isEqualTo("shared fetch");
            assertThat(cacheStatus(l)).isEqualTo(STORED);
            int collapsed = 0;
            for (CompletableFuture<HttpResponse<String>> f : followers) {
                HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("shared fetch");
                assertThat(cacheStatus(r)).matches("portcullis; fwd=miss; ttl=\\d+; collapsed|" + HIT);
                collapsed += cacheStatus(r).contains("collapsed") ? 1 : 0;
            }
            assertThat(collapsed).isPositive();
            assertThat(origin.count("GET /co")).isEqualTo(1);
        }
    }

    /** A request that waited for another variant's fetch goes upstream alone (documented) and stores nothing. */
    @Test
    void aFollowerOfAnotherVariantGoesUpstreamAsAVaryMiss() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            if ("en".equals(r.header("Accept-Language"))) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Reply.ok("lang " + r.header("Accept-Language"), "Cache-Control", "max-age=60",
                    "Vary", "Accept-Language");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            CompletableFuture<HttpResponse<String>> en = async(p, "/vm", "Accept-Language", "en");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (origin.total() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            CompletableFuture<HttpResponse<String>> fr = async(p, "/vm", "Accept-Language", "fr");
            Thread.sleep(300); // fr waits on en's fetch: the object's Vary is not known before its head
            release.countDown();
            assertThat(cacheStatus(en.get(20, TimeUnit.SECONDS))).isEqualTo(STORED);
            HttpResponse<String> follower = fr.get(20, TimeUnit.SECONDS);
            assertThat(follower.statusCode()).isEqualTo(200);
            assertThat(follower.body()).isEqualTo("lang fr");
            assertThat(cacheStatus(follower)).isEqualTo(
                    "portcullis; fwd=vary-miss; fwd-status=200; detail=variant-mismatch");
            assertThat(cacheStatus(get(p, "/vm", "Accept-Language", "fr"))).isEqualTo(VARY_STORED);
            assertThat(cacheStatus(get(p, "/vm", "Accept-Language", "fr"))).matches(HIT);
            assertThat(origin.count("GET /vm")).isEqualTo(3);
        }
    }

    private static CompletableFuture<HttpResponse<String>> async(TestProxy p, String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return CLIENT.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ---- purge ----

    @Test
    void purgingAUrlRemovesEveryVariantOfIt() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok(r.uri() + " " + r.header("Accept-Language"),
                "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            String[] languages = {"en", "fr", "de"};
            for (int i = 0; i < languages.length; i++) {
                String lang = languages[i];
                assertThat(cacheStatus(get(p, "/pv", "Accept-Language", lang))).isEqualTo(i == 0 ? STORED : VARY_STORED);
            }
            assertThat(cacheStatus(get(p, "/pv"))).isEqualTo(VARY_STORED); // without the header: a fourth variant
            assertThat(cacheStatus(get(p, "/pv-other", "Accept-Language", "en"))).isEqualTo(STORED);

            HttpResponse<String> purged = purge(p, "{\"url\": \"http://127.0.0.1:" + p.port("web") + "/pv\"}");
            assertThat(purged.statusCode()).isEqualTo(200);
            assertThat(purged.body()).contains("\"purged\":4");
            for (int i = 0; i < languages.length; i++) {
                String lang = languages[i];
                HttpResponse<String> r = get(p, "/pv", "Accept-Language", lang);
                assertThat(r.body()).isEqualTo("/pv " + lang);
                // all gone: the first is a miss of the URL, the next ones of their variant
                assertThat(cacheStatus(r)).as(lang).isEqualTo(i == 0 ? STORED : VARY_STORED);
            }
            assertThat(cacheStatus(get(p, "/pv"))).isEqualTo(VARY_STORED);
            assertThat(origin.count("GET /pv")).isEqualTo(8);
            assertThat(cacheStatus(get(p, "/pv-other", "Accept-Language", "en"))).as("another URL").matches(HIT);
            assertThat(origin.count("GET /pv-other")).isEqualTo(1);
        }
    }
}
