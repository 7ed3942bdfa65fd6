package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.date;
import static dev.portcullis.cache.policy.H.meta;
import static dev.portcullis.cache.policy.H.of;
import static dev.portcullis.cache.policy.H.s;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.cache.policy.Conditionals.Outcome;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class ConditionalTest {
    private static final String LM = date(T0 - s(3600));
    private static final StoredMeta STORED = meta(200, "Cache-Control", "max-age=60", "ETag", "\"xyzzy\"",
            "Last-Modified", LM, "Date", date(T0));

    private static Outcome eval(String... request) {
        return Conditionals.evaluate("GET", of(request), STORED);
    }

    @Test
    void noConditionsServes() {
        assertThat(eval()).isEqualTo(Outcome.SERVE);
    }

    @Test
    void ifNoneMatchUsesWeakComparisonListsAndStar() {
        assertThat(eval("If-None-Match", "\"xyzzy\"")).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-None-Match", "W/\"xyzzy\"")).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-None-Match", "\"a\", \"b\",W/\"xyzzy\"")).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-None-Match", "\"a\"", "If-None-Match", "\"xyzzy\"")).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-None-Match", "*")).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-None-Match", "\"XYZZY\"")).isEqualTo(Outcome.SERVE); // opaque tags are case-sensitive
        assertThat(eval("If-None-Match", "\"xyzz\"")).isEqualTo(Outcome.SERVE);
    }

    @Test
    void weakStoredTagMatchesWeakly() {
        StoredMeta weak = meta(200, "Cache-Control", "max-age=60", "ETag", "W/\"v\"");
        assertThat(Conditionals.evaluate("GET", of("If-None-Match", "\"v\""), weak)).isEqualTo(Outcome.NOT_MODIFIED);
    }

    @Test
    void malformedIfNoneMatchMatchesNothingButStillHidesIfModifiedSince() {
        assertThat(eval("If-None-Match", "xyzzy")).isEqualTo(Outcome.SERVE);
        assertThat(eval("If-None-Match", "\"nope\"", "If-Modified-Since", date(T0))).isEqualTo(Outcome.SERVE);
        assertThat(eval("If-None-Match", "garbage, \"xyzzy\"")).isEqualTo(Outcome.NOT_MODIFIED);
    }

    @Test
    void ifModifiedSinceComparesWithLastModified() {
        assertThat(eval("If-Modified-Since", LM)).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-Modified-Since", date(T0))).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(eval("If-Modified-Since", date(T0 - s(3601)))).isEqualTo(Outcome.SERVE);
        assertThat(eval("If-Modified-Since", "not a date")).isEqualTo(Outcome.SERVE);
        assertThat(eval("If-Modified-Since", LM, "If-Modified-Since", LM)).isEqualTo(Outcome.SERVE);
    }

    @Test
    void withoutLastModifiedTheDateIsTheValidator() {
        StoredMeta noLm = meta(200, "Cache-Control", "max-age=60", "Date", date(T0 - s(10)));
        assertThat(Conditionals.evaluate("GET", of("If-Modified-Since", date(T0 - s(10))), noLm))
                .isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(Conditionals.evaluate("GET", of("If-Modified-Since", date(T0 - s(11))), noLm))
                .isEqualTo(Outcome.SERVE);
    }

    @Test
    void ifModifiedSinceOnlyForGetAndHead() {
        assertThat(Conditionals.evaluate("HEAD", of("If-Modified-Since", LM), STORED)).isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(Conditionals.evaluate("HEAD", of("If-None-Match", "\"xyzzy\""), STORED))
                .isEqualTo(Outcome.NOT_MODIFIED);
        assertThat(Conditionals.evaluate("OPTIONS", of("If-Modified-Since", LM), STORED)).isEqualTo(Outcome.SERVE);
    }

    @Test
    void ifMatchAndIfUnmodifiedSinceGoToTheOrigin() {
        assertThat(eval("If-Match", "\"xyzzy\"")).isEqualTo(Outcome.FORWARD);
        assertThat(eval("If-Unmodified-Since", date(T0))).isEqualTo(Outcome.FORWARD);
        assertThat(eval("If-Match", "*", "If-None-Match", "\"xyzzy\"")).isEqualTo(Outcome.FORWARD);
    }

    @Test
    void preconditionsApplyToStored2xxOnly() {
        StoredMeta notFound = meta(404, "Cache-Control", "max-age=60", "ETag", "\"e\"");
        assertThat(Conditionals.evaluate("GET", of("If-None-Match", "*"), notFound)).isEqualTo(Outcome.SERVE);
    }

    @Test
    void notModifiedHeadersAreTheOnes15_4_5Requires() {
        HttpHeaders stored = of("Cache-Control", "max-age=60", "Content-Location", "/a.en", "Date", date(T0),
                "ETag", "\"e\"", "Expires", date(T0 + s(60)), "Vary", "Accept", "Content-Type", "text/html",
                "Content-Length", "10", "Last-Modified", LM, "X-Custom", "1");
        HttpHeaders h = Conditionals.notModifiedHeaders(stored);
        assertThat(h.names()).map(n -> n.toLowerCase(java.util.Locale.ROOT)).containsExactlyInAnyOrder(
                "cache-control", "content-location", "date", "etag", "expires", "vary");
        HttpHeaders noEtag = Conditionals.notModifiedHeaders(of("Date", date(T0), "Last-Modified", LM));
        assertThat(noEtag.get("Last-Modified")).isEqualTo(LM);
    }
}
