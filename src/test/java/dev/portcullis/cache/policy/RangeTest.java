package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.date;
import static dev.portcullis.cache.policy.H.meta;
import static dev.portcullis.cache.policy.H.of;
import static dev.portcullis.cache.policy.H.s;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RangeTest {
    private static final String LM = date(T0 - s(3600));
    private static final StoredMeta STORED = meta(200, "Cache-Control", "max-age=60", "ETag", "\"strong\"",
            "Last-Modified", LM, "Date", date(T0));

    private static Ranges.Decision range(String value, long length) {
        return Ranges.decide("GET", of("Range", value), STORED, length);
    }

    @ParameterizedTest(name = "{0} of 10000 -> {1}-{2}")
    @CsvSource({
            // RFC 9110 section 14.1.2's examples on a 10000-byte representation
            "bytes=0-499, 0, 499",
            "bytes=500-999, 500, 999",
            "bytes=-500, 9500, 9999",
            "bytes=9500-, 9500, 9999",
            // clamping and odd but valid syntax
            "bytes=0-99999, 0, 9999",
            "bytes=-20000, 0, 9999",
            "BYTES=0-0, 0, 0",
            "'bytes=, 5-9 ,', 5, 9",
            "bytes=9999-9999, 9999, 9999",
            "bytes=0-99999999999999999999999, 0, 9999",
    })
    void singleRangeGives206(String value, long first, long last) {
        Ranges.Decision d = range(value, 10_000);
        assertThat(d).isEqualTo(new Ranges.Partial(first, last, 10_000));
        assertThat(((Ranges.Partial) d).contentRange()).isEqualTo("bytes " + first + "-" + last + "/10000");
        assertThat(((Ranges.Partial) d).size()).isEqualTo(last - first + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=10000-", "bytes=10000-10005", "bytes=-0", "bytes=99999999999999999999-"})
    void unsatisfiableGives416(String value) {
        Ranges.Decision d = range(value, 10_000);
        assertThat(d).isEqualTo(new Ranges.Unsatisfiable(10_000));
        assertThat(((Ranges.Unsatisfiable) d).contentRange()).isEqualTo("bytes */10000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=5-1", "bytes=abc", "bytes=", "bytes=--5", "items=0-5", "bytes 0-5", "bytes=1-2-3",
            "bytes=0x1-", "bytes=-", "bytes=+1-2", "bytes=1 -2"})
    void invalidSyntaxIsIgnored(String value) {
        assertThat(range(value, 10_000)).isEqualTo(new Ranges.Full("invalid-range"));
    }

    @Test
    void multipleRangesServeTheWholeResponse() {
        assertThat(range("bytes=0-1, 5-6", 10_000)).isEqualTo(new Ranges.Full("multiple-ranges"));
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "Range", "bytes=5-6"), STORED, 100))
                .isEqualTo(new Ranges.Full("invalid-range"));
    }

    @Test
    void onlyGetOnA200OfKnownNonZeroLength() {
        assertThat(Ranges.decide("HEAD", of("Range", "bytes=0-1"), STORED, 100)).isInstanceOf(Ranges.Full.class);
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1"), meta(404, "Cache-Control", "max-age=9"), 100))
                .isInstanceOf(Ranges.Full.class);
        assertThat(range("bytes=0-1", -1)).isEqualTo(new Ranges.Full("length-unknown"));
        assertThat(range("bytes=0-1", 0)).isEqualTo(new Ranges.Full("empty"));
        assertThat(Ranges.decide("GET", of(), STORED, 100)).isEqualTo(new Ranges.Full("no-range"));
    }

    @Test
    void ifRangeWithAStrongEtag() {
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", "\"strong\""), STORED, 100))
                .isInstanceOf(Ranges.Partial.class);
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", "\"other\""), STORED, 100))
                .isEqualTo(new Ranges.Full("if-range"));
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", "W/\"strong\""), STORED, 100))
                .isEqualTo(new Ranges.Full("if-range"));
        StoredMeta weak = meta(200, "Cache-Control", "max-age=60", "ETag", "W/\"w\"");
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", "W/\"w\""), weak, 100))
                .isEqualTo(new Ranges.Full("if-range"));
    }

    @Test
    void ifRangeWithADate() {
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", LM), STORED, 100))
                .isInstanceOf(Ranges.Partial.class);
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", date(T0 - s(10))), STORED, 100))
                .isEqualTo(new Ranges.Full("if-range"));
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", "garbage"), STORED, 100))
                .isEqualTo(new Ranges.Full("if-range"));
        // A Last-Modified within a second of Date is a weak validator: no range.
        StoredMeta close = meta(200, "Cache-Control", "max-age=60", "Last-Modified", date(T0), "Date", date(T0));
        assertThat(Ranges.decide("GET", of("Range", "bytes=0-1", "If-Range", date(T0)), close, 100))
                .isEqualTo(new Ranges.Full("if-range"));
    }
}
