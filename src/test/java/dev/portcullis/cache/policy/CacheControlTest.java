package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CacheControlTest {
    private static CacheControl res(String... lines) {
        return CacheControl.parse(List.of(lines), false);
    }

    private static CacheControl req(String... lines) {
        return CacheControl.parse(List.of(lines), true);
    }

    @Test
    void noFieldIsTheSharedEmptyInstance() {
        assertThat(CacheControl.response(of())).isSameAs(CacheControl.EMPTY);
        assertThat(CacheControl.request(of())).isSameAs(CacheControl.EMPTY);
        assertThat(res("x-unknown, foo=bar")).isSameAs(CacheControl.EMPTY);
    }

    @Test
    void readsEveryResponseDirective() {
        CacheControl cc = res("public, max-age=60, s-maxage=120, must-revalidate, proxy-revalidate, no-transform,"
                + " immutable, stale-while-revalidate=30, stale-if-error=600, must-understand, no-store");
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(60);
        assertThat(cc.sMaxAge()).isEqualTo(120);
        assertThat(cc.mustRevalidate()).isTrue();
        assertThat(cc.proxyRevalidate()).isTrue();
        assertThat(cc.noTransform()).isTrue();
        assertThat(cc.immutable()).isTrue();
        assertThat(cc.staleWhileRevalidate()).isEqualTo(30);
        assertThat(cc.staleIfError()).isEqualTo(600);
        assertThat(cc.mustUnderstand()).isTrue();
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.noCache()).isFalse();
        assertThat(cc.isPrivate()).isFalse();
    }

    @Test
    void readsEveryRequestDirective() {
        CacheControl cc = req("no-cache, no-store, max-age=5, max-stale=10, min-fresh=3, only-if-cached,"
                + " no-transform, stale-if-error=20");
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(5);
        assertThat(cc.maxStale()).isEqualTo(10);
        assertThat(cc.minFresh()).isEqualTo(3);
        assertThat(cc.onlyIfCached()).isTrue();
        assertThat(cc.noTransform()).isTrue();
        assertThat(cc.staleIfError()).isEqualTo(20);
    }

    @Test
    void namesAreCaseInsensitiveAndArgumentsMayBeQuoted() {
        CacheControl cc = res("MAX-AGE=\"5\", Public, S-MaxAge=7");
        assertThat(cc.maxAge()).isEqualTo(5);
        assertThat(cc.sMaxAge()).isEqualTo(7);
        assertThat(cc.isPublic()).isTrue();
    }

    @Test
    void severalLinesAreOneList() {
        CacheControl cc = CacheControl.response(of("Cache-Control", "public", "cache-control", "max-age=9"));
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(9);
    }

    @Test
    void fieldNameListsOfNoCacheAndPrivate() {
        CacheControl cc = res("no-cache=\"Set-Cookie, X-Foo\", private=\"x-bar\"");
        assertThat(cc.noCache()).isFalse();
        assertThat(cc.noCacheFields()).containsExactly("set-cookie", "x-foo");
        assertThat(cc.isPrivate()).isFalse();
        assertThat(cc.privateFields()).containsExactly("x-bar");
    }

    @Test
    void tokenFormFieldNameAndAccumulatedLists() {
        CacheControl cc = res("private=set-cookie", "private=\"x-a\"", "no-cache=\"a\", no-cache=\"b,a\"");
        assertThat(cc.privateFields()).containsExactly("set-cookie", "x-a");
        assertThat(cc.noCacheFields()).containsExactly("a", "b");
    }

    @Test
    void unqualifiedFormWinsOverLists() {
        CacheControl cc = res("no-cache=\"x\", no-cache, private=\"y\", private");
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.noCacheFields()).isEmpty();
        assertThat(cc.isPrivate()).isTrue();
        assertThat(cc.privateFields()).isEmpty();
    }

    @Test
    void aListWithoutAValidNameReadsAsUnqualified() {
        assertThat(res("no-cache=\"\"").noCache()).isTrue();
        assertThat(res("private=\"@@\"").isPrivate()).isTrue();
    }

    @Test
    void commasInsideQuotesDoNotSplit() {
        CacheControl cc = res("foo=\"a, max-age=99, b\", max-age=3");
        assertThat(cc.maxAge()).isEqualTo(3);
    }

    @Test
    void escapedQuoteInsideAString() {
        CacheControl cc = res("x=\"a\\\"b, max-age=9\", public");
        assertThat(cc.maxAge()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.isPublic()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"max-age=-1", "max-age=1.5", "max-age=5s", "max-age=", "max-age", "max-age=+5",
            "max-age=\"\"", "max-age=0x10", "max-age=5 6"})
    void invalidMaxAgeInAResponseMeansStale(String value) {
        assertThat(res(value).maxAge()).isZero();
    }

    @Test
    void conflictingMaxAgeInAResponseMeansStaleButEqualDuplicatesAreFine() {
        assertThat(res("max-age=10, max-age=20").maxAge()).isZero();
        assertThat(res("max-age=10", "max-age=10").maxAge()).isEqualTo(10);
        assertThat(res("s-maxage=1, s-maxage=2").sMaxAge()).isZero();
    }

    @Test
    void inARequestTheMostRestrictiveValueWins() {
        CacheControl cc = req("max-age=10, max-age=4, max-stale=9, max-stale=3, min-fresh=2, min-fresh=8");
        assertThat(cc.maxAge()).isEqualTo(4);
        assertThat(cc.maxStale()).isEqualTo(3);
        assertThat(cc.minFresh()).isEqualTo(8);
    }

    @Test
    void widenersIgnoreInvalidValues() {
        CacheControl cc = res("stale-while-revalidate=abc, stale-if-error=-1");
        assertThat(cc.staleWhileRevalidate()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.staleIfError()).isEqualTo(CacheControl.ABSENT);
        assertThat(req("max-stale=x").maxStale()).isEqualTo(CacheControl.ABSENT);
        assertThat(req("min-fresh=x").minFresh()).isEqualTo(CacheControl.ABSENT);
    }

    @Test
    void maxStaleWithoutValueIsAnyStaleness() {
        assertThat(req("max-stale").maxStale()).isEqualTo(CacheControl.ANY);
        assertThat(req("max-stale, max-stale=5").maxStale()).isEqualTo(5);
    }

    @ParameterizedTest
    @CsvSource({"2147483647, 2147483647", "2147483648, 2147483648", "2147483649, 2147483648",
            "99999999999999999999999, 2147483648", "007, 7"})
    void deltaSecondsAreCappedAtTwoToThe31(String value, long expected) {
        assertThat(res("max-age=" + value).maxAge()).isEqualTo(expected);
    }

    @Test
    void oddWhitespaceAndEmptyElements() {
        CacheControl cc = res(" ,, public ,\tmax-age = 5 ,,");
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(5);
    }

    @Test
    void garbageAfterADirectiveIsTheRestrictiveReading() {
        CacheControl cc = res("no-store junk, public");
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.isPublic()).isTrue();
        assertThat(res("no-cache=\"unterminated").noCache()).isTrue();
    }

    @Test
    void requestNoCacheTakesNoFieldList() {
        assertThat(req("no-cache=\"x\"").noCache()).isTrue();
    }

    @Test
    void pragmaNoCacheOnlyWithoutCacheControlAndOnlyInRequests() {
        assertThat(CacheControl.request(of("Pragma", "no-cache")).noCache()).isTrue();
        assertThat(CacheControl.request(of("Pragma", "x, NO-CACHE")).noCache()).isTrue();
        assertThat(CacheControl.request(of("Pragma", "no-cache-please")).noCache()).isFalse();
        assertThat(CacheControl.request(of("Pragma", "no-cache", "Cache-Control", "max-age=5")).noCache()).isFalse();
        assertThat(CacheControl.response(of("Pragma", "no-cache")).noCache()).isFalse();
    }

    @Test
    void unknownDirectivesWithArgumentsAreSkipped() {
        CacheControl cc = res("community=\"UCI\", foo=bar, max-age=3");
        assertThat(cc.maxAge()).isEqualTo(3);
        assertThat(cc.toString()).isEqualTo("response[max-age=3]");
    }
}
