package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheDirectivesTest.STORED;
import static dev.portcullis.cache.proxy.CacheDirectivesTest.revalidatable;
import static dev.portcullis.cache.proxy.CacheDirectivesTest.ttl;
import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static dev.portcullis.cache.proxy.CacheProxyTest.get;
import static dev.portcullis.cache.proxy.CacheProxyTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The REQUEST directives of RFC 9111 section 5.2.1 and the Authorization rule of section 3.5, through the proxy's
 * sockets (see {@link CacheDirectivesTest} for the response's). A request {@code no-cache} without a validator and
 * {@code only-if-cached} on a miss are in {@link CacheProxyTest}; a request {@code no-cache} with one in
 * {@link CacheRevalidationTest}.
 */
class CacheRequestDirectivesTest {
    private static final String REVALIDATED_ON_REQUEST = "portcullis; fwd=request; fwd-status=304; ttl=\\d+; stored";
    private static final String HIT = "portcullis; hit; ttl=\\d+";

    /** RFC 9111 section 5.4: Pragma: no-cache in a request without Cache-Control is no-cache. */
    @Test
    void pragmaNoCacheRevalidatesWhenTheRequestHasNoCacheControl() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60", "Pragma", "no-cache"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/pr"))).isEqualTo(STORED);
            // the response's Pragma means nothing (section 5.4): a hit
            assertThat(cacheStatus(get(p, "/pr"))).matches(HIT);
            HttpResponse<String> r = get(p, "/pr", "Pragma", "no-cache");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body");
            assertThat(cacheStatus(r)).matches(REVALIDATED_ON_REQUEST);
            assertThat(origin.count("GET /pr")).isEqualTo(2);
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
            // beside a Cache-Control line, Pragma is ignored
            HttpResponse<String> both = get(p, "/pr", "Pragma", "no-cache", "Cache-Control", "max-age=3600");
            assertThat(both.body()).isEqualTo("body");
            assertThat(cacheStatus(both)).matches(HIT);
            assertThat(origin.count("GET /pr")).isEqualTo(2);
        }
    }

    @Test
    void aRequestNoStoreGoesUpstreamAndNothingIsStoredFromIt() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("ns", "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 1; i <= 2; i++) {
                HttpResponse<String> r = get(p, "/rns", "Cache-Control", "no-store");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("ns");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=request-no-store");
                assertThat(origin.count("GET /rns")).isEqualTo(i);
            }
            // nothing was stored: a plain request misses and stores
            assertThat(cacheStatus(get(p, "/rns"))).isEqualTo(STORED);
            assertThat(cacheStatus(get(p, "/rns"))).matches(HIT);
            assertThat(origin.count("GET /rns")).isEqualTo(3);
        }
    }

    /** The stored response is ~30 s old on arrival (Age: 30): a request max-age below that revalidates it. */
    @Test
    void aRequestMaxAgeBelowTheCurrentAgeRevalidates() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=600", "Age", "30"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/rma"))).isEqualTo(STORED);
            HttpResponse<String> young = get(p, "/rma", "Cache-Control", "max-age=3600");
            assertThat(young.body()).isEqualTo("body");
            assertThat(cacheStatus(young)).matches(HIT);
            assertThat(origin.count("GET /rma")).isEqualTo(1);
            HttpResponse<String> old = get(p, "/rma", "Cache-Control", "max-age=10");
            assertThat(old.statusCode()).isEqualTo(200);
            assertThat(old.body()).isEqualTo("body");
            assertThat(cacheStatus(old)).matches(REVALIDATED_ON_REQUEST);
            assertThat(origin.count("GET /rma")).isEqualTo(2);
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
            // the 304 made it young again (its Age replaced the stored one)
            assertThat(cacheStatus(get(p, "/rma", "Cache-Control", "max-age=10"))).matches(HIT);
            assertThat(origin.count("GET /rma")).isEqualTo(2);
        }
    }

    /** Stored with Age: 100 and max-age=60: about 40 s stale. */
    @Test
    void aRequestMaxStaleServesAStaleResponseWithinIt() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60", "Age", "100"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/ms"))).isEqualTo(STORED);
            for (String maxStale : new String[] {"max-stale", "max-stale=3600", "max-stale=60"}) {
                HttpResponse<String> r = get(p, "/ms", "Cache-Control", maxStale);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("body");
                assertThat(cacheStatus(r)).as(maxStale).matches("portcullis; hit; ttl=-\\d+; detail=max-stale");
                assertThat(ttl(r)).isBetween(-47L, -40L);
                assertThat(r.headers().firstValue("Age").map(Long::parseLong)).hasValueSatisfying(
                        a -> assertThat(a).isBetween(100L, 107L));
            }
            assertThat(origin.count("GET /ms")).isEqualTo(1);
            // 40 s stale is beyond max-stale=10: revalidated
            HttpResponse<String> r = get(p, "/ms", "Cache-Control", "max-stale=10");
            assertThat(r.body()).isEqualTo("body");
            assertThat(cacheStatus(r)).matches("portcullis; fwd=stale; fwd-status=304; ttl=\\d+; stored");
            assertThat(origin.count("GET /ms")).isEqualTo(2);
        }
    }

    @Test
    void aRequestMinFreshAboveTheRemainingFreshnessRevalidates() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/mf"))).isEqualTo(STORED);
            HttpResponse<String> enough = get(p, "/mf", "Cache-Control", "min-fresh=30");
            assertThat(enough.body()).isEqualTo("body");
            assertThat(cacheStatus(enough)).matches(HIT);
            assertThat(origin.count("GET /mf")).isEqualTo(1);
            HttpResponse<String> more = get(p, "/mf", "Cache-Control", "min-fresh=120");
            assertThat(more.statusCode()).isEqualTo(200);
            assertThat(more.body()).isEqualTo("body");
            assertThat(cacheStatus(more)).matches(REVALIDATED_ON_REQUEST);
            assertThat(origin.count("GET /mf")).isEqualTo(2);
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
        }
    }

    @Test
    void onlyIfCachedIsAHitWhenFreshAndA504WhenNothingOrOnlyAStaleResponseIsStored() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> revalidatable(
                switch (r.uri()) {
                    case "/stale" -> "max-age=0";
                    case "/nc" -> "max-age=60, no-cache";
                    default -> "max-age=60";
                }).apply(r));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> nothing = get(p, "/fresh", "Cache-Control", "only-if-cached");
            assertThat(nothing.statusCode()).isEqualTo(504);
            assertThat(origin.total()).isZero();

            assertThat(cacheStatus(get(p, "/fresh"))).isEqualTo(STORED);
            HttpResponse<String> hit = get(p, "/fresh", "Cache-Control", "only-if-cached");
            assertThat(hit.statusCode()).isEqualTo(200);
            assertThat(hit.body()).isEqualTo("body");
            assertThat(cacheStatus(hit)).matches(HIT);
            assertThat(origin.count("GET /fresh")).isEqualTo(1);

            assertThat(cacheStatus(get(p, "/stale"))).isEqualTo(STORED);
            HttpResponse<String> stale = get(p, "/stale", "Cache-Control", "only-if-cached");
            assertThat(stale.statusCode()).isEqualTo(504);
            assertThat(origin.count("GET /stale")).isEqualTo(1);
            // with max-stale the stale response may answer
            HttpResponse<String> allowed = get(p, "/stale", "Cache-Control", "only-if-cached, max-stale");
            assertThat(allowed.statusCode()).isEqualTo(200);
            assertThat(allowed.body()).isEqualTo("body");
            assertThat(cacheStatus(allowed)).matches("portcullis; hit; ttl=-?\\d+; detail=max-stale");
            assertThat(origin.count("GET /stale")).isEqualTo(1);
            // a response no-cache can never be served without the origin
            assertThat(cacheStatus(get(p, "/nc"))).isEqualTo(STORED);
            assertThat(get(p, "/nc", "Cache-Control", "only-if-cached").statusCode()).isEqualTo(504);
            assertThat(origin.count("GET /nc")).isEqualTo(1);
        }
    }

    /**
     * Section 5.2.1.5: nothing from a no-store request's exchange may be stored. Revalidating with such a request,
     * the 304 does not freshen the entry, nor drop it: the stored response stays as it was.
     */
    @Test
    void aNoStoreRequestThatRevalidatesDoesNotClaimToStore() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/nsr"))).isEqualTo(STORED);
            HttpResponse<String> r = get(p, "/nsr", "Cache-Control", "no-cache, no-store");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body");
            assertThat(cacheStatus(r)).startsWith("portcullis; fwd=request; fwd-status=304").doesNotContain("stored");
            assertThat(origin.count("GET /nsr")).isEqualTo(2);
            assertThat(cacheStatus(get(p, "/nsr"))).startsWith("portcullis; hit"); // untouched, still stored
            assertThat(origin.count("GET /nsr")).isEqualTo(2);
        }
    }

    // ---- Authorization (section 3.5) ----

    @Test
    void anAuthorizedRequestIsNeitherStoredNorAnsweredFromAPlainResponse() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("for " + r.header("Authorization"),
                "Cache-Control", "max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            // not stored from an authorized request
            HttpResponse<String> first = get(p, "/au", "Authorization", "Bearer alice");
            assertThat(first.body()).isEqualTo("for Bearer alice");
            assertThat(cacheStatus(first)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=authorization");
            // stored from an anonymous one ...
            assertThat(cacheStatus(get(p, "/au"))).isEqualTo(STORED);
            assertThat(cacheStatus(get(p, "/au"))).matches(HIT);
            // ... but that does not answer an authorized request
            HttpResponse<String> bob = get(p, "/au", "Authorization", "Bearer bob");
            assertThat(bob.statusCode()).isEqualTo(200);
            assertThat(bob.body()).isEqualTo("for Bearer bob");
            assertThat(cacheStatus(bob)).isEqualTo("portcullis; fwd=request; fwd-status=200; detail=authorization");
            assertThat(origin.count("GET /au")).isEqualTo(3);
            // and the stored anonymous response is still there
            HttpResponse<String> anon = get(p, "/au");
            assertThat(anon.body()).isEqualTo("for null");
            assertThat(cacheStatus(anon)).matches(HIT);
            assertThat(origin.count("GET /au")).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate"})
    void anAuthorizedRequestIsStoredAndAnsweredWhenTheResponseAllowsIt(String cacheControl) throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("shared", "Cache-Control", cacheControl));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> first = get(p, "/aok", "Authorization", "Bearer alice");
            assertThat(first.body()).isEqualTo("shared");
            assertThat(cacheStatus(first)).isEqualTo(STORED);
            for (String who : new String[] {"Bearer bob", "Bearer alice"}) {
                HttpResponse<String> r = get(p, "/aok", "Authorization", who);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("shared");
                assertThat(cacheStatus(r)).matches(HIT);
            }
            assertThat(origin.count("GET /aok")).isEqualTo(1);
        }
    }
}
