package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StorabilityTest {
    private static final HttpHeaders NO_REQUEST_HEADERS = of();

    private static StoreDecision decide(int status, String... response) {
        return Storability.decide("GET", NO_REQUEST_HEADERS, status, of(response), T0, T0);
    }

    private static String reason(int status, String... response) {
        return decide(status, response).reason();
    }

    @Test
    void maxAgeIsStored() {
        StoreDecision d = decide(200, "Cache-Control", "max-age=60");
        assertThat(d).isInstanceOf(StoreDecision.Store.class);
        StoreDecision.Store s = (StoreDecision.Store) d;
        assertThat(s.meta().lifetime().millis()).isEqualTo(60_000);
        assertThat(s.stripFields()).contains("set-cookie", "connection", "transfer-encoding");
    }

    @Test
    void onlyGet() {
        for (String m : new String[] {"HEAD", "POST", "PUT", "get", "OPTIONS"}) {
            assertThat(Storability.decide(m, NO_REQUEST_HEADERS, 200, of("Cache-Control", "max-age=60"), T0, T0)
                    .reason()).as(m).isEqualTo("method");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 101, 103, 199, 600, 999})
    void onlyFinalStatuses(int status) {
        assertThat(reason(status, "Cache-Control", "max-age=60")).isEqualTo("status");
    }

    @Test
    void partialAndNotModifiedAreNeverStored() {
        assertThat(reason(206, "Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/10"))
                .isEqualTo("partial-content");
        assertThat(reason(304, "Cache-Control", "max-age=60")).isEqualTo("not-modified");
        assertThat(reason(200, "Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/10"))
                .isEqualTo("content-range");
    }

    @Test
    void noStoreEitherSide() {
        assertThat(reason(200, "Cache-Control", "max-age=60, no-store")).isEqualTo("no-store");
        assertThat(Storability.decide("GET", of("Cache-Control", "no-store"), 200,
                of("Cache-Control", "max-age=60"), T0, T0).reason()).isEqualTo("request-no-store");
    }

    @Test
    void mustUnderstandOverridesNoStoreForUnderstoodStatusesOnly() {
        assertThat(decide(200, "Cache-Control", "max-age=60, no-store, must-understand"))
                .isInstanceOf(StoreDecision.Store.class);
        assertThat(reason(299, "Cache-Control", "max-age=60, no-store, must-understand"))
                .isEqualTo("must-understand");
    }

    @Test
    void privateIsNotStoredButQualifiedPrivateStoresTheRest() {
        assertThat(reason(200, "Cache-Control", "private, max-age=60")).isEqualTo("private");
        StoreDecision d = decide(200, "Cache-Control", "private=\"X-User\", max-age=60", "X-User", "bob");
        assertThat(d).isInstanceOf(StoreDecision.Store.class);
        assertThat(((StoreDecision.Store) d).stripFields()).contains("x-user");
    }

    @Test
    void qualifiedNoCacheStoresWithoutTheNamedFields() {
        StoreDecision d = decide(200, "Cache-Control", "no-cache=\"X-Secret\", max-age=60");
        assertThat(((StoreDecision.Store) d).stripFields()).contains("x-secret");
        assertThat(((StoreDecision.Store) d).meta().cacheControl().noCache()).isFalse();
    }

    @Test
    void unqualifiedNoCacheIsStoredWhenItCanBeRevalidated() {
        assertThat(decide(200, "Cache-Control", "no-cache, max-age=60", "ETag", "\"a\""))
                .isInstanceOf(StoreDecision.Store.class);
        assertThat(reason(200, "Cache-Control", "no-cache, max-age=60")).isEqualTo("stale-no-validator");
    }

    @Test
    void authorizationNeedsPublicSMaxAgeOrMustRevalidate() {
        HttpHeaders auth = of("Authorization", "Bearer x");
        assertThat(Storability.decide("GET", auth, 200, of("Cache-Control", "max-age=60"), T0, T0).reason())
                .isEqualTo("authorization");
        for (String cc : new String[] {"public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"}) {
            assertThat(Storability.decide("GET", auth, 200, of("Cache-Control", cc), T0, T0))
                    .as(cc).isInstanceOf(StoreDecision.Store.class);
        }
    }

    @Test
    void varyStarIsNeverStored() {
        assertThat(reason(200, "Cache-Control", "max-age=60", "Vary", "Accept, *")).isEqualTo("vary-star");
        assertThat(decide(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"))
                .isInstanceOf(StoreDecision.Store.class);
    }

    @Test
    void setCookieOnlyWhenTheOriginSaysTheResponseIsShared() {
        assertThat(reason(200, "Cache-Control", "max-age=60", "Set-Cookie", "s=1")).isEqualTo("set-cookie");
        assertThat(reason(200, "Expires", H.date(T0 + 60_000), "Set-Cookie", "s=1")).isEqualTo("set-cookie");
        for (String cc : new String[] {"public, max-age=60", "s-maxage=60", "max-age=60, private=\"Set-Cookie\"",
                "max-age=60, no-cache=\"set-cookie\""}) {
            StoreDecision d = decide(200, "Cache-Control", cc, "Set-Cookie", "s=1");
            assertThat(d).as(cc).isInstanceOf(StoreDecision.Store.class);
            assertThat(((StoreDecision.Store) d).stripFields()).as(cc).contains("set-cookie");
        }
    }

    @Test
    void needsExplicitFreshnessPublicOrAHeuristicStatus() {
        assertThat(reason(302, "Location", "/x")).isEqualTo("no-freshness");
        assertThat(reason(500)).isEqualTo("no-freshness");
        assertThat(decide(302, "Cache-Control", "max-age=60")).isInstanceOf(StoreDecision.Store.class);
        assertThat(decide(500, "Expires", H.date(T0 + 60_000), "Date", H.date(T0)))
                .isInstanceOf(StoreDecision.Store.class);
        assertThat(decide(302, "Cache-Control", "public", "Last-Modified", H.date(T0 - 100_000)))
                .isInstanceOf(StoreDecision.Store.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
    void heuristicallyCacheableStatusesWithLastModified(int status) {
        StoreDecision d = decide(status, "Date", H.date(T0), "Last-Modified", H.date(T0 - 100_000));
        assertThat(d).isInstanceOf(StoreDecision.Store.class);
        assertThat(((StoreDecision.Store) d).meta().lifetime().source()).isEqualTo(Freshness.Source.HEURISTIC);
    }

    @Test
    void staleOnArrivalWithoutValidatorOrStaleWindowIsUseless() {
        assertThat(reason(200)).isEqualTo("stale-no-validator");
        assertThat(reason(200, "Cache-Control", "max-age=0")).isEqualTo("stale-no-validator");
        assertThat(reason(200, "Expires", "0")).isEqualTo("stale-no-validator");
        assertThat(decide(200, "ETag", "\"v1\"")).isInstanceOf(StoreDecision.Store.class);
        assertThat(decide(200, "Cache-Control", "max-age=0, stale-while-revalidate=30"))
                .isInstanceOf(StoreDecision.Store.class);
        assertThat(decide(200, "Cache-Control", "max-age=0, stale-if-error=30"))
                .isInstanceOf(StoreDecision.Store.class);
    }

    @Test
    void connectionListedFieldsAreStripped() {
        StoreDecision d = decide(200, "Cache-Control", "max-age=9", "Connection", "X-Hop, close", "X-Hop", "1");
        assertThat(((StoreDecision.Store) d).stripFields()).contains("x-hop").doesNotContain("close");
    }

    @Test
    void ruleOrderGivesTheFirstReason() {
        assertThat(reason(206, "Cache-Control", "no-store")).isEqualTo("partial-content");
        assertThat(reason(200, "Cache-Control", "no-store, private", "Vary", "*")).isEqualTo("no-store");
    }
}
