package dev.portcullis.http.filters.compression;

import static dev.portcullis.config.CompressConfig.Algorithm.BR;
import static dev.portcullis.config.CompressConfig.Algorithm.GZIP;
import static dev.portcullis.config.CompressConfig.Algorithm.ZSTD;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.CompressConfig.Algorithm;
import java.util.Arrays;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** Accept-Encoding negotiation (RFC 9110 §12.5.3) as a pure function. */
class AcceptEncodingTest {
    private static final Algorithm[] DEFAULT = {BR, ZSTD, GZIP};

    private static Algorithm choose(Algorithm[] order, String... lines) {
        return AcceptEncoding.choose(Arrays.asList(lines).iterator(), order);
    }

    private static Algorithm choose(String... lines) {
        return choose(DEFAULT, lines);
    }

    @Test
    void absentHeaderMeansIdentity() {
        assertThat(AcceptEncoding.choose(null, DEFAULT)).isNull();
        assertThat(AcceptEncoding.choose(Collections.emptyIterator(), DEFAULT)).isNull();
    }

    @Test
    void emptyValueMeansNoCoding() {
        assertThat(choose("")).isNull();
        assertThat(choose("  ")).isNull();
    }

    @Test
    void browsersTiesGoToTheRouteOrder() {
        assertThat(choose("gzip, deflate, br, zstd")).isEqualTo(BR);
        assertThat(choose(new Algorithm[] {GZIP, ZSTD, BR}, "gzip, deflate, br, zstd")).isEqualTo(GZIP);
        assertThat(choose(new Algorithm[] {ZSTD, GZIP}, "br, gzip, zstd")).isEqualTo(ZSTD);
        assertThat(choose("gzip, deflate")).isEqualTo(GZIP);
    }

    @Test
    void highestQWins() {
        assertThat(choose("br;q=0.5, gzip;q=0.9, zstd;q=0.7")).isEqualTo(GZIP);
        assertThat(choose("br;q=0.8, zstd;q=0.8, gzip;q=0.5")).isEqualTo(BR);
        assertThat(choose("gzip;q=1.0, br;q=0.999")).isEqualTo(GZIP);
        assertThat(choose("gzip;q=0.001")).isEqualTo(GZIP);
    }

    @Test
    void qZeroRefuses() {
        assertThat(choose("br;q=0, gzip")).isEqualTo(GZIP);
        assertThat(choose("br;q=0, zstd;q=0.0, gzip;q=0.000")).isNull();
    }

    @Test
    void caseAndWhitespaceAreIgnored() {
        assertThat(choose("  GZIP ;  Q = 0.5 ,\tBr;q=0.4")).isEqualTo(GZIP);
        assertThat(choose("ZSTD")).isEqualTo(ZSTD);
        assertThat(choose("x-gzip")).isEqualTo(GZIP);
    }

    @Test
    void starMatchesWhatIsNotListed() {
        assertThat(choose("*")).isEqualTo(BR);
        assertThat(choose("br;q=0, *")).isEqualTo(ZSTD);
        assertThat(choose("*;q=0, gzip")).isEqualTo(GZIP);
        assertThat(choose("*;q=0")).isNull();
        assertThat(choose("gzip;q=0.9, *;q=0.1")).isEqualTo(GZIP);
    }

    @Test
    void identityCompetesOnlyWhenRanked() {
        assertThat(choose("identity;q=0, gzip;q=0.1")).isEqualTo(GZIP);
        assertThat(choose("identity;q=0")).isNull();
        assertThat(choose("identity, gzip;q=0.5")).isNull(); // the client prefers it as is
        assertThat(choose("identity;q=0.5, gzip")).isEqualTo(GZIP);
        assertThat(choose("identity, gzip")).isEqualTo(GZIP); // a tie goes to the coding
        assertThat(choose(new Algorithm[] {GZIP}, "gzip;q=0.5, *")).isNull(); // identity through * is ranked 1
    }

    @Test
    void junkIsSkippedAndTheRestCounts() {
        assertThat(choose("gzip;q=abc, br")).isEqualTo(BR);
        assertThat(choose("gzip;q=2, zstd;q=0.5")).isEqualTo(ZSTD);
        assertThat(choose("gzip;q=0.5555, zstd;q=0.5")).isEqualTo(ZSTD);
        assertThat(choose(";;,,, ;q=1, gzip")).isEqualTo(GZIP);
        assertThat(choose("compress, deflate, sdch, bogus/token")).isNull();
        assertThat(choose("gzip;level=9;q=0.3, br;q=0.2")).isEqualTo(GZIP);
        assertThat(choose("gzip;q=")).isNull();
        assertThat(choose("\u00e9\u00e9, zstd")).isEqualTo(ZSTD);
    }

    @Test
    void severalLinesAreOneList() {
        assertThat(choose("br;q=0.1", "gzip;q=0.9")).isEqualTo(GZIP);
        assertThat(choose("identity;q=0", "", "zstd")).isEqualTo(ZSTD);
    }

    @Test
    void theFirstMentionCounts() {
        assertThat(choose("gzip;q=0, gzip")).isNull();
        assertThat(choose("gzip, x-gzip;q=0")).isEqualTo(GZIP);
    }

    @Test
    void qvalues() {
        assertThat(AcceptEncoding.qvalue("1", 0, 1)).isEqualTo(1000);
        assertThat(AcceptEncoding.qvalue("0.25", 0, 4)).isEqualTo(250);
        assertThat(AcceptEncoding.qvalue("1.000", 0, 5)).isEqualTo(1000);
        assertThat(AcceptEncoding.qvalue("1.001", 0, 5)).isEqualTo(-1);
        assertThat(AcceptEncoding.qvalue("0.", 0, 2)).isEqualTo(0);
        assertThat(AcceptEncoding.qvalue(".5", 0, 2)).isEqualTo(-1);
        assertThat(AcceptEncoding.qvalue("-1", 0, 2)).isEqualTo(-1);
    }
}
