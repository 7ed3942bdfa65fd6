package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.meta;
import static dev.portcullis.cache.policy.H.of;
import static dev.portcullis.cache.policy.H.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServePolicyTest {
    private static final HttpHeaders NONE = of();

    private static ServeDecision decide(String requestCc, StoredMeta m, long now) {
        CacheControl req = requestCc == null ? CacheControl.EMPTY : CacheControl.parse(List.of(requestCc), true);
        return ServePolicy.decide(req, NONE, m, now);
    }

    private static CacheControl req(String cc) {
        return CacheControl.parse(List.of(cc), true);
    }

    @Test
    void freshIsServed() {
        ServeDecision d = decide(null, meta(200, "Cache-Control", "max-age=60"), T0 + s(10));
        assertThat(d).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(d.hit()).isTrue();
        assertThat(d.fwd()).isNull();
    }

    @Test
    void staleIsValidated() {
        ServeDecision d = decide(null, meta(200, "Cache-Control", "max-age=60"), T0 + s(61));
        assertThat(d).isEqualTo(new ServeDecision.Validate(CacheStatus.Fwd.STALE, "stale"));
    }

    @Test
    void requestNoCacheAndPragmaValidate() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60");
        assertThat(decide("no-cache", m, T0)).isEqualTo(new ServeDecision.Validate(CacheStatus.Fwd.REQUEST,
                "request-no-cache"));
        assertThat(ServePolicy.decide(CacheControl.request(of("Pragma", "no-cache")), NONE, m, T0))
                .isInstanceOf(ServeDecision.Validate.class);
    }

    @Test
    void responseNoCacheValidatesEvenWhenFresh() {
        assertThat(decide(null, meta(200, "Cache-Control", "no-cache, max-age=60", "ETag", "\"a\""), T0))
                .isEqualTo(new ServeDecision.Validate(CacheStatus.Fwd.STALE, "no-cache"));
    }

    @Test
    void requestMaxAgeAndMinFresh() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60");
        assertThat(decide("max-age=10", m, T0 + s(10))).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(decide("max-age=10", m, T0 + s(11)))
                .isEqualTo(new ServeDecision.Validate(CacheStatus.Fwd.REQUEST, "request-max-age"));
        assertThat(decide("max-age=0", m, T0 + s(1))).isInstanceOf(ServeDecision.Validate.class);
        assertThat(decide("min-fresh=50", m, T0 + s(10))).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(decide("min-fresh=51", m, T0 + s(10)))
                .isEqualTo(new ServeDecision.Validate(CacheStatus.Fwd.REQUEST, "request-min-fresh"));
    }

    @Test
    void maxStaleServesStale() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60");
        assertThat(decide("max-stale=10", m, T0 + s(70))).isEqualTo(new ServeDecision.Stale(false));
        assertThat(decide("max-stale=10", m, T0 + s(71))).isInstanceOf(ServeDecision.Validate.class);
        assertThat(decide("max-stale", m, T0 + s(100_000))).isEqualTo(new ServeDecision.Stale(false));
        assertThat(decide("max-stale, min-fresh=1", m, T0 + s(70))).isInstanceOf(ServeDecision.Validate.class);
        assertThat(decide("max-stale, max-age=65", m, T0 + s(70))).isInstanceOf(ServeDecision.Validate.class);
    }

    @Test
    void mustRevalidateProxyRevalidateAndSMaxAgeForbidMaxStale() {
        for (String cc : new String[] {"max-age=60, must-revalidate", "max-age=60, proxy-revalidate", "s-maxage=60"}) {
            ServeDecision d = decide("max-stale", meta(200, "Cache-Control", cc), T0 + s(61));
            assertThat(d).as(cc).isInstanceOf(ServeDecision.Validate.class);
        }
        assertThat(decide(null, meta(200, "Cache-Control", "max-age=60, must-revalidate"), T0 + s(61)).detail())
                .isEqualTo("must-revalidate");
    }

    @Test
    void staleWhileRevalidateWindow() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60, stale-while-revalidate=30");
        ServeDecision d = decide(null, m, T0 + s(90));
        assertThat(d).isEqualTo(new ServeDecision.Stale(true));
        assertThat(d.detail()).isEqualTo("stale-while-revalidate");
        assertThat(decide(null, m, T0 + s(91))).isInstanceOf(ServeDecision.Validate.class);
        // A client asking for a young response does not get the stale one.
        assertThat(decide("max-age=0", m, T0 + s(61))).isInstanceOf(ServeDecision.Validate.class);
    }

    @Test
    void staleWhileRevalidateHonouredWithSMaxAgeButNotWithMustRevalidate() {
        assertThat(decide(null, meta(200, "Cache-Control", "s-maxage=60, stale-while-revalidate=30"), T0 + s(70)))
                .isEqualTo(new ServeDecision.Stale(true));
        assertThat(decide(null, meta(200, "Cache-Control", "max-age=60, must-revalidate, stale-while-revalidate=30"),
                T0 + s(70))).isInstanceOf(ServeDecision.Validate.class);
        // s-maxage + swr does not open the door to the client's unlimited max-stale.
        assertThat(decide("max-stale", meta(200, "Cache-Control", "s-maxage=60, stale-while-revalidate=30"),
                T0 + s(100))).isInstanceOf(ServeDecision.Validate.class);
    }

    @Test
    void onlyIfCached() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60");
        assertThat(decide("only-if-cached", m, T0)).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(decide("only-if-cached", m, T0 + s(61))).isEqualTo(new ServeDecision.GatewayTimeout("only-if-cached"));
        assertThat(decide("only-if-cached, max-stale", m, T0 + s(61))).isEqualTo(new ServeDecision.Stale(false));
        assertThat(ServePolicy.miss(req("only-if-cached"), CacheStatus.Fwd.URI_MISS))
                .isInstanceOf(ServeDecision.GatewayTimeout.class);
        assertThat(ServePolicy.miss(CacheControl.EMPTY, CacheStatus.Fwd.VARY_MISS))
                .isEqualTo(new ServeDecision.Forward(CacheStatus.Fwd.VARY_MISS, "vary-miss"));
    }

    @Test
    void authorizationOnlyFromResponsesThatAllowIt() {
        HttpHeaders auth = of("Authorization", "Basic eDp5");
        assertThat(ServePolicy.decide(CacheControl.EMPTY, auth, meta(200, "Cache-Control", "max-age=60"), T0))
                .isEqualTo(new ServeDecision.Forward(CacheStatus.Fwd.REQUEST, "authorization"));
        assertThat(ServePolicy.decide(CacheControl.EMPTY, auth, meta(200, "Cache-Control", "public, max-age=60"), T0))
                .isInstanceOf(ServeDecision.Fresh.class);
    }

    @Test
    void immutableChangesNothingForASharedCache() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60, immutable");
        assertThat(decide(null, m, T0 + s(10))).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(decide("no-cache", m, T0 + s(10))).isInstanceOf(ServeDecision.Validate.class);
        assertThat(decide(null, m, T0 + s(61))).isInstanceOf(ServeDecision.Validate.class);
    }

    @Test
    void staleIfErrorWindows() {
        StoredMeta m = meta(200, "Cache-Control", "max-age=60, stale-if-error=100");
        assertThat(ServePolicy.staleIfError(CacheControl.EMPTY, m, T0 + s(160))).isTrue();
        assertThat(ServePolicy.staleIfError(CacheControl.EMPTY, m, T0 + s(161))).isFalse();
        assertThat(ServePolicy.staleIfError(req("stale-if-error=200"), m, T0 + s(200))).isTrue();
        StoredMeta plain = meta(200, "Cache-Control", "max-age=60");
        assertThat(ServePolicy.staleIfError(CacheControl.EMPTY, plain, T0 + s(61))).isFalse();
        assertThat(ServePolicy.staleIfError(req("stale-if-error=5"), plain, T0 + s(65))).isTrue();
        assertThat(ServePolicy.staleIfError(req("stale-if-error=5"), plain, T0 + s(66))).isFalse();
    }

    @Test
    void staleIfErrorRespectsTheOriginsProhibitions() {
        assertThat(ServePolicy.staleIfError(req("stale-if-error=100"),
                meta(200, "Cache-Control", "max-age=60, must-revalidate, stale-if-error=100"), T0 + s(61))).isFalse();
        assertThat(ServePolicy.staleIfError(req("stale-if-error=100"),
                meta(200, "Cache-Control", "no-cache, stale-if-error=100", "ETag", "\"x\""), T0 + s(1))).isFalse();
        // s-maxage: the response's own window applies, the client's does not.
        StoredMeta shared = meta(200, "Cache-Control", "s-maxage=60");
        assertThat(ServePolicy.staleIfError(req("stale-if-error=100"), shared, T0 + s(61))).isFalse();
        StoredMeta sharedOwn = meta(200, "Cache-Control", "s-maxage=60, stale-if-error=10");
        assertThat(ServePolicy.staleIfError(req("stale-if-error=100"), sharedOwn, T0 + s(70))).isTrue();
        assertThat(ServePolicy.staleIfError(req("stale-if-error=100"), sharedOwn, T0 + s(71))).isFalse();
    }

    @Test
    void errorStatusesOfRfc5861() {
        assertThat(ServePolicy.isError(500)).isTrue();
        assertThat(ServePolicy.isError(502)).isTrue();
        assertThat(ServePolicy.isError(503)).isTrue();
        assertThat(ServePolicy.isError(504)).isTrue();
        assertThat(ServePolicy.isError(501)).isFalse();
        assertThat(ServePolicy.isError(404)).isFalse();
    }

    @Test
    void heuristicFreshnessServes() {
        StoredMeta m = StoredMeta.of(200, of("Date", H.date(T0), "Last-Modified", H.date(T0 - s(1000))), T0, T0);
        assertThat(decide(null, m, T0 + s(99))).isInstanceOf(ServeDecision.Fresh.class);
        assertThat(decide(null, m, T0 + s(100))).isInstanceOf(ServeDecision.Validate.class);
    }
}
