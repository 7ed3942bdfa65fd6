package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VaryKeyTest {
    @Test
    void namesAreLowerCaseSortedAndDeduplicated() {
        assertThat(VaryKey.names(of("Vary", "User-Agent, Accept-Encoding", "vary", "accept-encoding,  Accept")))
                .containsExactly("accept", "accept-encoding", "user-agent");
        assertThat(VaryKey.names(of())).isEmpty();
        assertThat(VaryKey.names(of("Vary", ""))).isEmpty();
    }

    @Test
    void starAnywhereIsStar() {
        List<String> names = VaryKey.names(of("Vary", "Accept", "Vary", "*"));
        assertThat(VaryKey.isStar(names)).isTrue();
        assertThat(VaryKey.matches(names, "", of())).isFalse();
    }

    @Test
    void noVaryMatchesEverything() {
        assertThat(VaryKey.of(List.of(), of("Accept", "x"))).isEqualTo(VaryKey.NONE);
    }

    @Test
    void absentDiffersFromEmpty() {
        List<String> names = List.of("accept-language");
        assertThat(VaryKey.of(names, of())).isNotEqualTo(VaryKey.of(names, of("Accept-Language", "")));
    }

    @Test
    void linesAreCombinedAndWhitespaceAroundCommasTrimmed() {
        List<String> names = List.of("accept-language");
        String a = VaryKey.of(names, of("Accept-Language", "en-GB,  fr;q=0.5"));
        String b = VaryKey.of(names, of("accept-language", "en-GB", "Accept-Language", "fr;q=0.5"));
        assertThat(a).isEqualTo(b);
        // Values stay case-sensitive and ordered: that is the field's own semantics.
        assertThat(a).isNotEqualTo(VaryKey.of(names, of("Accept-Language", "fr;q=0.5, en-GB")));
    }

    @Test
    void keyCoversEveryNamedField() {
        List<String> names = List.of("accept", "x-device");
        assertThat(VaryKey.matches(names, VaryKey.of(names, of("Accept", "a", "X-Device", "m")),
                of("X-Device", "m", "Accept", "a"))).isTrue();
        assertThat(VaryKey.matches(names, VaryKey.of(names, of("Accept", "a", "X-Device", "m")),
                of("Accept", "a", "X-Device", "d"))).isFalse();
        assertThat(VaryKey.matches(names, VaryKey.of(names, of("Accept", "a")), of("Accept", "a", "X-Device", "")))
                .isFalse();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "gzip, br|br,gzip",
            "br,gzip|br,gzip",
            "GZIP;q=0.5 ,  br;q=1.0|br,gzip",
            "x-gzip|gzip",
            "gzip, identity|gzip",
            "identity|''",
            "gzip, br;q=0|gzip,br;q=0",
            "gzip;q=0.000, gzip|gzip;q=0",
            "br;Q=0.|br;q=0",
            "*|*",
            "zstd, br, gzip, deflate|br,deflate,gzip,zstd",
            "gzip;q=0.001|gzip",
    })
    void acceptEncodingCanonicalForm(String header, String canonical) {
        assertThat(VaryKey.acceptEncoding(List.of(header))).isEqualTo(canonical);
    }

    @Test
    void acceptEncodingOrderDoesNotSplitVariants() {
        List<String> names = List.of("accept-encoding");
        String stored = VaryKey.of(names, of("Accept-Encoding", "gzip, deflate, br"));
        assertThat(VaryKey.matches(names, stored, of("Accept-Encoding", "br,gzip,deflate"))).isTrue();
        assertThat(VaryKey.matches(names, stored, of("Accept-Encoding", "br, gzip", "Accept-Encoding", "deflate")))
                .isTrue();
        assertThat(VaryKey.matches(names, stored, of("Accept-Encoding", "gzip"))).isFalse();
        assertThat(VaryKey.matches(names, stored, of())).isFalse();
    }
}
