package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static dev.portcullis.cache.proxy.CacheProxyTest.get;
import static dev.portcullis.cache.proxy.CacheProxyTest.send;
import static dev.portcullis.cache.proxy.CacheProxyTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.RawBackend;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Stale stored responses: conditional revalidation with the origin (RFC 9111 section 4.3), stale-while-revalidate
 * and stale-if-error (RFC 5861). Black-box against an origin that counts what reaches it. {@code max-age=0} makes a
 * response stale at once, so no test waits for time to pass.
 */
class CacheRevalidationTest {

    /** An origin for /r: 200 with ETag "v1" unless the request carries If-None-Match "v1", then 304. */
    private static CountingOrigin etagOrigin(String cacheControl304, String cacheControl200) throws Exception {
        return CountingOrigin.start(r -> "\"v1\"".equals(r.header("If-None-Match"))
                ? Reply.ok("", "Cache-Control", cacheControl304, "ETag", "\"v1\"", "X-Seen", "304").status(304)
                : Reply.ok("body v1", "Cache-Control", cacheControl200, "ETag", "\"v1\"",
                        "Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT", "Content-Type", "text/plain"));
    }

    @Test
    void aStaleResponseIsRevalidatedWithItsValidatorsAndA304FreshensIt() throws Exception {
        try (CountingOrigin origin = etagOrigin("max-age=60", "max-age=0");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/r").body()).isEqualTo("body v1");
            HttpResponse<String> revalidated = get(p, "/r");
            assertThat(revalidated.statusCode()).isEqualTo(200);
            assertThat(revalidated.body()).isEqualTo("body v1");
            assertThat(cacheStatus(revalidated)).startsWith("portcullis; fwd=stale; fwd-status=304;").endsWith("stored");
            // the 304's fields replace the stored ones; the stored body is kept
            assertThat(revalidated.headers().firstValue("X-Seen")).hasValue("304");
            assertThat(revalidated.headers().firstValue("Content-Type")).hasValue("text/plain");
            assertThat(revalidated.headers().firstValue("Content-Length")).hasValue("7");
            List<CountingOrigin.Request> seen = origin.requests();
            assertThat(seen).hasSize(2);
            assertThat(seen.get(0).header("If-None-Match")).isNull();
            assertThat(seen.get(1).header("If-None-Match")).isEqualTo("\"v1\"");
            assertThat(seen.get(1).header("If-Modified-Since")).isEqualTo("Mon, 01 Jan 2024 00:00:00 GMT");
            // fresh now for 60 s: a hit
            HttpResponse<String> hit = get(p, "/r");
            assertThat(cacheStatus(hit)).startsWith("portcullis; hit");
            assertThat(hit.body()).isEqualTo("body v1");
            assertThat(origin.total()).isEqualTo(2);
        }
    }

    @Test
    void theClientsOwnConditionsAreAnsweredAfterTheRevalidationNotPassedOn() throws Exception {
        try (CountingOrigin origin = etagOrigin("max-age=0", "max-age=0");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            HttpResponse<String> notModified = get(p, "/r", "If-None-Match", "\"v1\"");
            assertThat(notModified.statusCode()).isEqualTo(304);
            assertThat(notModified.body()).isEmpty();
            HttpResponse<String> other = get(p, "/r", "If-None-Match", "\"zzz\"", "Range", "bytes=0-3");
            assertThat(other.statusCode()).isEqualTo(206);
            assertThat(other.body()).isEqualTo("body");
            // the origin saw the cache's validator each time, never the client's own tag nor its range
            for (CountingOrigin.Request r : origin.requests().subList(1, 3)) {
                assertThat(r.header("If-None-Match")).isEqualTo("\"v1\"");
                assertThat(r.header("Range")).isNull();
            }
        }
    }

    @Test
    void aHeadOnAStaleEntryIsRevalidatedWithAConditionalGet() throws Exception {
        try (CountingOrigin origin = etagOrigin("max-age=60", "max-age=0");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            HttpResponse<String> head = send(p, "HEAD", "/r");
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(head.headers().firstValue("Content-Length")).hasValue("7");
            assertThat(origin.count("GET /r")).isEqualTo(2);
            assertThat(origin.count("HEAD /r")).isZero();
            assertThat(cacheStatus(get(p, "/r"))).startsWith("portcullis; hit");
        }
    }

    @Test
    void aChangedResponseReplacesTheStoredOne() throws Exception {
        AtomicInteger version = new AtomicInteger(1);
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            String tag = "\"v" + version.get() + "\"";
            if (tag.equals(r.header("If-None-Match"))) {
                return Reply.ok("").status(304);
            }
            return Reply.ok("body " + tag, "Cache-Control", version.get() == 1 ? "max-age=0" : "max-age=60",
                    "ETag", tag);
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/c").body()).isEqualTo("body \"v1\"");
            version.set(2);
            HttpResponse<String> changed = get(p, "/c");
            assertThat(changed.body()).isEqualTo("body \"v2\"");
            assertThat(cacheStatus(changed)).startsWith("portcullis; fwd=stale; fwd-status=200; stored");
            HttpResponse<String> hit = get(p, "/c");
            assertThat(hit.body()).isEqualTo("body \"v2\"");
            assertThat(cacheStatus(hit)).startsWith("portcullis; hit");
            assertThat(origin.total()).isEqualTo(2);
        }
    }

    @Test
    void a304ForAnotherRepresentationFetchesTheWholeResponseAgain() throws Exception {
        AtomicBoolean seenOnce = new AtomicBoolean();
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            if (r.header("If-None-Match") != null) {
                // claims "not modified" but names another tag than the stored one (RFC 9111 section 4.3.4)
                return Reply.ok("", "ETag", "\"v2\"").status(304);
            }
            boolean first = !seenOnce.getAndSet(true);
            return Reply.ok(first ? "old" : "new", "Cache-Control", first ? "max-age=0" : "max-age=60",
                    "ETag", first ? "\"v1\"" : "\"v2\"");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(get(p, "/m").body()).isEqualTo("old");
            HttpResponse<String> refetched = get(p, "/m");
            assertThat(refetched.statusCode()).isEqualTo(200);
            assertThat(refetched.body()).isEqualTo("new");
            List<CountingOrigin.Request> seen = origin.requests();
            assertThat(seen).hasSize(3);
            assertThat(seen.get(1).header("If-None-Match")).isEqualTo("\"v1\"");
            assertThat(seen.get(2).header("If-None-Match")).isNull();
            HttpResponse<String> hit = get(p, "/m");
            assertThat(hit.body()).isEqualTo("new");
            assertThat(cacheStatus(hit)).startsWith("portcullis; hit");
            assertThat(origin.total()).isEqualTo(3);
        }
    }

    @Test
    void concurrentRequestsForAStaleEntryShareOneRevalidation() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("body v1", "Cache-Control", "max-age=0", "ETag", "\"v1\"")
                : Reply.ok("", "Cache-Control", "max-age=60", "ETag", "\"v1\"").status(304).delay(300));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/x");
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return get(p, "/x");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("body v1");
            }
            assertThat(origin.total()).isEqualTo(2); // the first fetch and one revalidation
        }
    }

    @Test
    void a304ThatForbidsStoringStillAnswersButTheEntryIsDropped() throws Exception {
        try (CountingOrigin origin = etagOrigin("no-store", "max-age=0");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            HttpResponse<String> r = get(p, "/r");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body v1");
            // nothing stored any more: the next request is a plain miss, without conditions
            HttpResponse<String> next = get(p, "/r");
            assertThat(cacheStatus(next)).startsWith("portcullis; fwd=uri-miss");
            assertThat(origin.requests().get(2).header("If-None-Match")).isNull();
        }
    }

    @Test
    void theRequestsNoCacheRevalidatesAFreshResponse() throws Exception {
        try (CountingOrigin origin = etagOrigin("max-age=60", "max-age=60");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            HttpResponse<String> r = get(p, "/r", "Cache-Control", "no-cache");
            assertThat(r.body()).isEqualTo("body v1");
            assertThat(cacheStatus(r)).startsWith("portcullis; fwd=request; fwd-status=304");
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
        }
    }

    // ---- stale-if-error ----

    @Test
    void withinStaleIfErrorAnErrorStatusIsAnsweredWithTheStoredResponse() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("stored", "Cache-Control", "max-age=0, stale-if-error=60")
                : Reply.ok("origin error page").status(503));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/e");
            HttpResponse<String> r = get(p, "/e");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("stored");
            assertThat(cacheStatus(r)).startsWith("portcullis; fwd=stale; fwd-status=503").contains(
                    "detail=stale-if-error");
            // the stored response stays, and the next request tries the origin again
            assertThat(get(p, "/e").body()).isEqualTo("stored");
            assertThat(origin.total()).isEqualTo(3);
        }
    }

    @Test
    void withoutStaleIfErrorTheErrorGoesToTheClient() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("stored", "Cache-Control", "max-age=0", "ETag", "\"s\"") // stored as it can be validated
                : Reply.ok("origin error page").status(503));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/e");
            HttpResponse<String> r = get(p, "/e");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).isEqualTo("origin error page");
            // the request's own stale-if-error counts too
            assertThat(get(p, "/e", "Cache-Control", "stale-if-error=60").body()).isEqualTo("stored");
        }
    }

    @Test
    void mustRevalidateForbidsStaleIfError() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("stored", "Cache-Control", "max-age=0, must-revalidate, stale-if-error=60")
                : Reply.ok("down").status(502));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/e");
            assertThat(get(p, "/e").statusCode()).isEqualTo(502);
        }
    }

    @Test
    void anUnreachableOriginIsAnsweredWithTheStoredResponseWithinStaleIfError() throws Exception {
        CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("stored",
                "Cache-Control", "max-age=0, stale-if-error=60"));
        try (TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/u");
            origin.close(); // connections refused from now on
            HttpResponse<String> r = get(p, "/u");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("stored");
            assertThat(cacheStatus(r)).contains("fwd=stale").contains("detail=stale-if-error");
            // a resource that was never stored still fails as before
            assertThat(get(p, "/never").statusCode()).isIn(502, 503);
        } finally {
            origin.close();
        }
    }

    @Test
    void anErrorResponseBreakingOffIsStillAnsweredWithTheStoredResponse() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (RawBackend origin = RawBackend.serving((request, out) -> {
            if (calls.incrementAndGet() == 1) {
                RawBackend.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=0, stale-if-error=60\r\n"
                        + "ETag: \"s\"\r\nContent-Length: 6\r\n\r\nstored");
                return true;
            }
            // an error page that promises 100 bytes and stops after 10: the connection ends mid-body
            RawBackend.write(out, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n0123456789");
            return false;
        });
             TestProxy p = TestProxy.start(yaml(origin.address(), ""))) {
            get(p, "/b");
            HttpResponse<String> r = get(p, "/b");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("stored");
            assertThat(cacheStatus(r)).contains("detail=stale-if-error");
        }
    }

    @Test
    void mustRevalidateWithTheOriginUnreachableIsAGatewayTimeout() throws Exception {
        CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("stored",
                "Cache-Control", "max-age=0, must-revalidate", "ETag", "\"m\""));
        try (TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/mr");
            origin.close();
            // RFC 9111 section 5.2.2.2: the stored response may not be used, and the answer SHOULD be 504
            assertThat(get(p, "/mr").statusCode()).isEqualTo(504);
        } finally {
            origin.close();
        }
    }

    @Test
    void aRouteTimeoutIsAnsweredWithTheStoredResponseWithinStaleIfError() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("stored", "Cache-Control", "max-age=0, stale-if-error=60")
                : Reply.ok("late").delay(3000));
             TestProxy p = TestProxy.start(yaml(origin, "timeout: 300ms"))) {
            get(p, "/t");
            HttpResponse<String> r = get(p, "/t");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("stored");
            // the 504 is the proxy's own, not the origin's: no fwd-status
            assertThat(cacheStatus(r)).startsWith("portcullis; fwd=stale; ttl=").contains("detail=stale-if-error")
                    .doesNotContain("fwd-status");
        }
    }

    // ---- stale-while-revalidate ----

    @Test
    void withinStaleWhileRevalidateTheStaleResponseAnswersAtOnceAndOneRefreshRunsBehind() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            if (calls.incrementAndGet() == 1) {
                return Reply.ok("v1", "Cache-Control", "max-age=0, stale-while-revalidate=60", "ETag", "\"v1\"");
            }
            try {
                release.await(10, TimeUnit.SECONDS); // the refresh hangs until the test has made its requests
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Reply.ok("v2", "Cache-Control", "max-age=60", "ETag", "\"v2\"");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/s");
            List<CompletableFuture<HttpResponse<String>>> during = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                during.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return get(p, "/s");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (CompletableFuture<HttpResponse<String>> f : during) {
                HttpResponse<String> r = f.get(10, TimeUnit.SECONDS); // answered while the refresh still hangs
                assertThat(r.body()).isEqualTo("v1");
                assertThat(cacheStatus(r)).startsWith("portcullis; hit").contains("detail=stale-while-revalidate");
            }
            await(() -> origin.total() == 2, "the one background refresh");
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
            release.countDown();
            await(() -> {
                try {
                    return get(p, "/s").body().equals("v2");
                } catch (Exception e) {
                    return false;
                }
            }, "the refreshed response");
            HttpResponse<String> fresh = get(p, "/s");
            assertThat(cacheStatus(fresh)).startsWith("portcullis; hit").doesNotContain("stale");
            assertThat(origin.total()).isEqualTo(2);
        }
    }

    @Test
    void aRefreshAnswered304FreshensTheStoredResponse() throws Exception {
        try (CountingOrigin origin = etagOrigin("max-age=60", "max-age=0, stale-while-revalidate=60");
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/r");
            assertThat(cacheStatus(get(p, "/r"))).contains("detail=stale-while-revalidate");
            await(() -> origin.total() == 2, "the background revalidation");
            await(() -> {
                try {
                    return !cacheStatus(get(p, "/r")).contains("stale");
                } catch (Exception e) {
                    return false;
                }
            }, "the freshened response");
            assertThat(origin.total()).isEqualTo(2);
        }
    }

    @Test
    void aFailedRefreshLeavesTheStaleResponseServable() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (CountingOrigin origin = CountingOrigin.start(r -> calls.incrementAndGet() == 1
                ? Reply.ok("v1", "Cache-Control", "max-age=0, stale-while-revalidate=60")
                : Reply.ok("oops").status(500));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            get(p, "/f");
            assertThat(get(p, "/f").body()).isEqualTo("v1");
            await(() -> origin.total() == 2, "the failed refresh");
            HttpResponse<String> again = get(p, "/f");
            assertThat(again.statusCode()).isEqualTo(200);
            assertThat(again.body()).isEqualTo("v1");
            assertThat(cacheStatus(again)).contains("detail=stale-while-revalidate");
        }
    }

    private static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
