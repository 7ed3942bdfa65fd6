package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.date;
import static dev.portcullis.cache.policy.H.of;
import static dev.portcullis.cache.policy.H.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class FreshnessTest {
    private static Freshness.Lifetime lifetime(int status, String... pairs) {
        HttpHeaders h = of(pairs);
        return Freshness.lifetime(status, CacheControl.response(h), h, Freshness.date(h, T0));
    }

    @Test
    void sMaxAgeBeatsMaxAgeBeatsExpires() {
        String expires = date(T0 + s(1000));
        assertThat(lifetime(200, "Cache-Control", "max-age=10, s-maxage=20", "Expires", expires, "Date", date(T0)))
                .isEqualTo(new Freshness.Lifetime(s(20), Freshness.Source.S_MAXAGE));
        assertThat(lifetime(200, "Cache-Control", "max-age=10", "Expires", expires, "Date", date(T0)))
                .isEqualTo(new Freshness.Lifetime(s(10), Freshness.Source.MAX_AGE));
        assertThat(lifetime(200, "Expires", expires, "Date", date(T0)))
                .isEqualTo(new Freshness.Lifetime(s(1000), Freshness.Source.EXPIRES));
    }

    @Test
    void expiresMinusDateUsesTheOriginsClockNotOurs() {
        // The origin's clock is an hour behind ours: Expires - Date is still 60 s.
        HttpHeaders h = of("Date", date(T0 - s(3600)), "Expires", date(T0 - s(3540)));
        assertThat(Freshness.lifetime(200, CacheControl.EMPTY, h, Freshness.date(h, T0)).millis()).isEqualTo(s(60));
    }

    @Test
    void invalidOrConflictingExpiresMeansAlreadyExpired() {
        assertThat(lifetime(200, "Expires", "0", "Date", date(T0)))
                .isEqualTo(new Freshness.Lifetime(0, Freshness.Source.EXPIRES));
        assertThat(lifetime(200, "Expires", "garbage").millis()).isZero();
        assertThat(lifetime(200, "Expires", date(T0 + s(10)), "Expires", date(T0 + s(20))).millis()).isZero();
        assertThat(lifetime(200, "Expires", date(T0 - s(10)), "Date", date(T0)).millis()).isZero();
        // Explicit (if zero) freshness: no heuristic.
        assertThat(lifetime(200, "Expires", "0", "Last-Modified", date(T0 - s(100_000))).explicit()).isTrue();
    }

    @Test
    void allThreeDateFormatsAreAccepted() {
        for (String e : new String[] {"Sun, 06 Nov 1994 08:50:37 GMT", "Sunday, 06-Nov-94 08:50:37 GMT",
                "Sun Nov  6 08:50:37 1994"}) {
            assertThat(lifetime(200, "Expires", e, "Date", date(T0)).millis()).as(e).isEqualTo(s(60));
        }
    }

    @Test
    void heuristicIsTenPercentOfDateMinusLastModified() {
        assertThat(lifetime(200, "Date", date(T0), "Last-Modified", date(T0 - s(1000))))
                .isEqualTo(new Freshness.Lifetime(s(100), Freshness.Source.HEURISTIC));
    }

    @Test
    void heuristicIsCappedAtOneDay() {
        assertThat(lifetime(200, "Date", date(T0), "Last-Modified", date(T0 - s(365L * 86400))).millis())
                .isEqualTo(Freshness.HEURISTIC_CAP_MILLIS);
    }

    @Test
    void heuristicNeedsALastModifiedInThePastAndACacheableStatusOrPublic() {
        assertThat(lifetime(200, "Date", date(T0))).isEqualTo(Freshness.Lifetime.NONE);
        assertThat(lifetime(200, "Date", date(T0), "Last-Modified", date(T0 + s(10)))).isEqualTo(Freshness.Lifetime.NONE);
        assertThat(lifetime(302, "Date", date(T0), "Last-Modified", date(T0 - s(1000)))).isEqualTo(Freshness.Lifetime.NONE);
        assertThat(lifetime(302, "Cache-Control", "public", "Date", date(T0), "Last-Modified", date(T0 - s(1000)))
                .millis()).isEqualTo(s(100));
    }

    @Test
    void missingOrInvalidDateIsTheResponseTime() {
        assertThat(Freshness.date(of(), T0)).isEqualTo(T0);
        assertThat(Freshness.date(of("Date", "yesterday"), T0)).isEqualTo(T0);
        assertThat(Freshness.date(of("Date", date(T0 - s(5))), T0)).isEqualTo(T0 - s(5));
    }

    @Test
    void ageFieldFirstMemberInvalidIgnoredAndCapped() {
        assertThat(Freshness.ageValue(of())).isZero();
        assertThat(Freshness.ageValue(of("Age", "42"))).isEqualTo(42);
        assertThat(Freshness.ageValue(of("Age", "7 , 9"))).isEqualTo(7);
        assertThat(Freshness.ageValue(of("Age", "-3"))).isZero();
        assertThat(Freshness.ageValue(of("Age", "1.5"))).isZero();
        assertThat(Freshness.ageValue(of("Age", "99999999999999"))).isEqualTo(CacheControl.MAX_DELTA);
    }

    @Test
    void currentAgeFollowsSection423() {
        // Request sent at T0, response at T0+2s, origin Date T0-3s (clock skew), Age: 10 from an upstream cache.
        long requestTime = T0;
        long responseTime = T0 + s(2);
        long date = T0 - s(3);
        long initial = Freshness.correctedInitialAge(10, date, requestTime, responseTime);
        // apparent_age = 5 s; corrected_age_value = 10 + 2 = 12 s; corrected_initial_age = 12 s.
        assertThat(initial).isEqualTo(s(12));
        // resident 30 s later: 42 s.
        assertThat(Freshness.currentAge(initial, responseTime, responseTime + s(30))).isEqualTo(s(42));
    }

    @Test
    void apparentAgeWinsWhenLarger() {
        long initial = Freshness.correctedInitialAge(0, T0 - s(100), T0, T0);
        assertThat(initial).isEqualTo(s(100));
        // A Date in the future gives no negative age.
        assertThat(Freshness.correctedInitialAge(0, T0 + s(100), T0, T0)).isZero();
    }

    @Test
    void ageHeaderIsWholeSecondsCapped() {
        assertThat(Freshness.ageHeaderSeconds(1999)).isEqualTo(1);
        assertThat(Freshness.ageHeaderSeconds(Long.MAX_VALUE / 2)).isEqualTo(2147483648L);
    }

    @Test
    void storedMetaTracksFreshnessOverTime() {
        StoredMeta m = StoredMeta.of(200, of("Cache-Control", "max-age=60", "Age", "10", "Date", date(T0)), T0, T0);
        assertThat(m.ageSeconds(T0)).isEqualTo(10);
        assertThat(m.ttlSeconds(T0)).isEqualTo(50);
        assertThat(m.isFresh(T0 + s(49))).isTrue();
        assertThat(m.isFresh(T0 + s(50))).isFalse(); // fresh means lifetime > age, strictly
        assertThat(m.staleness(T0 + s(55))).isEqualTo(s(5));
        assertThat(m.ttlSeconds(T0 + s(55))).isEqualTo(-5);
        assertThat(m.ttlSeconds(T0 + s(55) + 1)).isEqualTo(-6); // rounded towards -infinity
    }
}
