package dev.portcullis.cache.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** Header lists and metadata: order, duplicates, tags, Vary, freshening. */
class ResponseMetaTest {
    @Test
    void headersKeepOrderAndDuplicatesThroughNetty() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Set-Cookie", "a=1").add("Content-Type", "text/html").add("Set-Cookie", "b=2");
        HeaderList list = HeaderList.from(h);
        assertThat(list.size()).isEqualTo(3);
        assertThat(list.name(1)).isEqualTo("Content-Type");
        assertThat(list.all("set-cookie")).containsExactly("a=1", "b=2");
        assertThat(list.get("CONTENT-TYPE")).isEqualTo("text/html");
        assertThat(list.get("x")).isNull();
        HttpHeaders back = new DefaultHttpHeaders();
        list.addTo(back);
        assertThat(back.getAll("set-cookie")).containsExactly("a=1", "b=2");
        assertThat(HeaderList.from(back)).isEqualTo(list);
    }

    @Test
    void badHeaderListsAreRefused() {
        assertThatThrownBy(() -> HeaderList.of("a")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HeaderList.of("a", null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void tagsComeFromSurrogateKeyAndCacheTag() {
        HeaderList h = HeaderList.of("Surrogate-Key", "  a b\tc  a", "Cache-Tag", "d, e ,,c", "surrogate-key", "f");
        ResponseMeta m = ResponseMeta.of("k", "", 200, "OK", h, 1, 2);
        assertThat(m.tags()).containsExactly("a", "b", "c", "d", "e", "f");
        assertThat(ResponseMeta.of("k", "", 200, "OK", HeaderList.EMPTY, 1, 2).tags()).isEmpty();
    }

    @Test
    void tagsAreBounded() {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            many.append("t").append(i).append(' ');
        }
        String huge = "x".repeat(ResponseMeta.MAX_TAG_LENGTH + 1);
        ResponseMeta m = ResponseMeta.of("k", "", 200, "OK", HeaderList.of("Surrogate-Key", huge + " " + many), 1, 2);
        assertThat(m.tags()).hasSize(ResponseMeta.MAX_TAGS).doesNotContain(huge);
    }

    @Test
    void varyIsTheJoinedValues() {
        HeaderList h = HeaderList.of("Vary", "Accept-Encoding", "vary", "Accept-Language");
        assertThat(ResponseMeta.of("k", "v", 200, "OK", h, 1, 2).vary()).isEqualTo("Accept-Encoding, Accept-Language");
    }

    @Test
    void freshenedMetadataKeepsKeysAndTakesTheNewHeadersAndTimes() {
        ResponseMeta m = ResponseMeta.of("k", "v", 200, "OK",
                HeaderList.of("ETag", "\"1\"", "Cache-Control", "max-age=1", "Surrogate-Key", "old"), 1, 2);
        HeaderList merged = m.headers().replacing(HeaderList.of("cache-control", "max-age=9", "Surrogate-Key", "new"));
        assertThat(merged.all("cache-control")).containsExactly("max-age=9");
        assertThat(merged.get("etag")).isEqualTo("\"1\"");
        ResponseMeta f = m.freshened(merged, 10, 11);
        assertThat(f.primaryKey()).isEqualTo("k");
        assertThat(f.variantKey()).isEqualTo("v");
        assertThat(f.tags()).containsExactly("new");
        assertThat(f.responseTimeMillis()).isEqualTo(11);
    }
}
