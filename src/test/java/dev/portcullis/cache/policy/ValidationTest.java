package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.T0;
import static dev.portcullis.cache.policy.H.date;
import static dev.portcullis.cache.policy.H.of;
import static dev.portcullis.cache.policy.H.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class ValidationTest {
    private static final String LM = date(T0 - s(86400));

    @Test
    void conditionalRequestCarriesTheStoredValidatorsAsReceived() {
        HttpHeaders stored = of("ETag", "W/\"v1\"", "Last-Modified", LM);
        HttpHeaders upstream = of("If-None-Match", "\"client\"", "If-Modified-Since", date(T0), "If-Range", "\"x\"",
                "Range", "bytes=0-1", "If-Match", "\"y\"", "If-Unmodified-Since", date(T0), "Accept", "*/*");
        assertThat(Validation.conditionalRequest(stored, upstream)).isTrue();
        assertThat(upstream.getAll("If-None-Match")).containsExactly("W/\"v1\"");
        assertThat(upstream.getAll("If-Modified-Since")).containsExactly(LM);
        assertThat(upstream.contains("Range")).isFalse();
        assertThat(upstream.contains("If-Range")).isFalse();
        assertThat(upstream.contains("If-Match")).isFalse();
        assertThat(upstream.contains("If-Unmodified-Since")).isFalse();
        assertThat(upstream.get("Accept")).isEqualTo("*/*");
    }

    @Test
    void withoutValidatorsItIsAPlainRefetch() {
        HttpHeaders upstream = of("If-None-Match", "\"client\"");
        assertThat(Validation.conditionalRequest(of("Last-Modified", "not a date"), upstream)).isFalse();
        assertThat(upstream.contains("If-None-Match")).isFalse();
        assertThat(upstream.contains("If-Modified-Since")).isFalse();
    }

    @Test
    void a304FreshensTheStoredHeaders() {
        HttpHeaders stored = of("Content-Type", "text/plain", "Content-Length", "5", "Content-Encoding", "gzip",
                "Cache-Control", "max-age=10", "ETag", "\"v1\"", "Date", date(T0), "Age", "50", "X-Old", "1",
                "X-Multi", "a", "X-Multi", "b");
        HttpHeaders notModified = of("Cache-Control", "max-age=600", "ETag", "\"v1\"", "Date", date(T0 + s(100)),
                "Content-Length", "0", "Content-Encoding", "identity", "X-Multi", "c", "Set-Cookie", "s=1",
                "Connection", "X-Hop", "X-Hop", "h", "Transfer-Encoding", "chunked");
        Validation.Freshening f = Validation.on304(of(), stored, 200, notModified, T0 + s(100), T0 + s(100));
        assertThat(f).isInstanceOf(Validation.Freshened.class);
        Validation.Freshened fr = (Validation.Freshened) f;
        HttpHeaders h = fr.headers();
        assertThat(h.get("Cache-Control")).isEqualTo("max-age=600");
        assertThat(h.get("Date")).isEqualTo(date(T0 + s(100)));
        assertThat(h.get("Content-Length")).isEqualTo("5");
        assertThat(h.get("Content-Encoding")).isEqualTo("gzip");
        assertThat(h.get("Content-Type")).isEqualTo("text/plain");
        assertThat(h.get("X-Old")).isEqualTo("1");
        assertThat(h.getAll("X-Multi")).containsExactly("c");
        assertThat(h.contains("Set-Cookie")).isFalse();
        assertThat(h.contains("X-Hop")).isFalse();
        assertThat(h.contains("Transfer-Encoding")).isFalse();
        assertThat(h.contains("Age")).isFalse(); // the old Age described the old response
        assertThat(stored.get("Cache-Control")).isEqualTo("max-age=10"); // input untouched
        StoreDecision.Store store = (StoreDecision.Store) fr.decision();
        assertThat(store.meta().isFresh(T0 + s(650))).isTrue();
        assertThat(store.meta().ageSeconds(T0 + s(100))).isZero();
    }

    @Test
    void a304WithoutDateGetsTheTimeItArrived() {
        HttpHeaders stored = of("Cache-Control", "max-age=10", "ETag", "\"v1\"", "Date", date(T0));
        Validation.Freshened f = (Validation.Freshened) Validation.on304(of(), stored, 200, of("ETag", "\"v1\""),
                T0 + s(30), T0 + s(31));
        assertThat(f.headers().get("Date")).isEqualTo(date(T0 + s(31)));
        // corrected initial age 1 s (the request took 1 s), lifetime 10 s: fresh until T0+40 exclusive.
        assertThat(((StoreDecision.Store) f.decision()).meta().isFresh(T0 + s(39))).isTrue();
        assertThat(((StoreDecision.Store) f.decision()).meta().isFresh(T0 + s(40))).isFalse();
    }

    @Test
    void a304WithAnAgeKeepsIt() {
        HttpHeaders stored = of("Cache-Control", "max-age=100", "ETag", "\"v1\"", "Age", "3");
        Validation.Freshened f = (Validation.Freshened) Validation.on304(of(), stored, 200,
                of("ETag", "\"v1\"", "Age", "20", "Date", date(T0)), T0, T0);
        assertThat(f.headers().get("Age")).isEqualTo("20");
        assertThat(((StoreDecision.Store) f.decision()).meta().ageSeconds(T0)).isEqualTo(20);
    }

    @Test
    void strongValidatorMustMatchStrongly() {
        HttpHeaders stored = of("ETag", "\"v1\"", "Cache-Control", "max-age=1");
        assertThat(Validation.on304(of(), stored, 200, of("ETag", "\"v2\""), T0, T0))
                .isEqualTo(new Validation.Mismatch("etag-mismatch"));
        assertThat(Validation.on304(of(), of("ETag", "W/\"v1\""), 200, of("ETag", "\"v1\""), T0, T0))
                .isInstanceOf(Validation.Mismatch.class);
        assertThat(Validation.on304(of(), stored, 200, of("ETag", "W/\"v1\""), T0, T0))
                .isInstanceOf(Validation.Freshened.class);
    }

    @Test
    void lastModifiedMustMatchWhenThe304HasNoETag() {
        HttpHeaders stored = of("Last-Modified", LM, "Cache-Control", "max-age=1");
        assertThat(Validation.on304(of(), stored, 200, of("Last-Modified", date(T0)), T0, T0))
                .isEqualTo(new Validation.Mismatch("last-modified-mismatch"));
        assertThat(Validation.on304(of(), stored, 200, of("Last-Modified", LM), T0, T0))
                .isInstanceOf(Validation.Freshened.class);
        assertThat(Validation.on304(of(), stored, 200, of(), T0, T0)).isInstanceOf(Validation.Freshened.class);
    }

    @Test
    void a304ThatForbidsStorageStillFreshensThisAnswer() {
        HttpHeaders stored = of("ETag", "\"v1\"", "Cache-Control", "max-age=1");
        Validation.Freshened f = (Validation.Freshened) Validation.on304(of(), stored, 200,
                of("ETag", "\"v1\"", "Cache-Control", "no-store"), T0, T0);
        assertThat(f.decision()).isEqualTo(new StoreDecision.DontStore("no-store"));
    }

    @Test
    void namesInTheNewPrivateListAreNotCopied() {
        HttpHeaders stored = of("ETag", "\"v1\"", "Cache-Control", "max-age=1");
        Validation.Freshened f = (Validation.Freshened) Validation.on304(of(), stored, 200,
                of("ETag", "\"v1\"", "Cache-Control", "max-age=60, private=\"X-User\"", "X-User", "bob"), T0, T0);
        assertThat(f.headers().contains("X-User")).isFalse();
    }
}
