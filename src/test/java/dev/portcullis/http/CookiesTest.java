package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** The cookie scan behind sticky sessions and hash_on: cookie:NAME. */
class CookiesTest {
    @Test
    void theFirstCookieOfThatNameWinsAcrossSeveralCookieLines() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Cookie", "other=x; id=first");
        h.add("Cookie", "id=second");
        assertThat(Cookies.value(h, "id")).isEqualTo("first");
    }

    @Test
    void withinOneLineTheFirstPairWinsAndQuotesAndBlanksGo() {
        HttpHeaders h = new DefaultHttpHeaders();
        h.add("Cookie", "idx=1;  id=\"abc\" ; id=later");
        assertThat(Cookies.value(h, "id")).isEqualTo("abc");
        assertThat(Cookies.value(h, "missing")).isNull();
        assertThat(Cookies.value(new DefaultHttpHeaders(), "id")).isNull();
    }
}
