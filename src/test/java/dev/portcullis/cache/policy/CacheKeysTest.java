package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.RouteCacheConfig;
import dev.portcullis.config.RouteCacheConfig.Query;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CacheKeysTest {
    private static final CacheKeys DEFAULT = new CacheKeys(RouteCacheConfig.Key.DEFAULT);
    private static final HttpHeaders NONE = of();

    private static CacheKeys query(Query q, String... params) {
        return new CacheKeys(new RouteCacheConfig.Key(List.of(), List.of(), q, List.of(params)));
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @CsvSource({
            "http, example.com, /a, http://example.com/a",
            "HTTP, Example.COM, /A/b, http://example.com/A/b",
            "http, example.com:80, /, http://example.com/",
            "https, example.com:443, /, https://example.com/",
            "http, example.com:443, /, http://example.com:443/",
            "https, example.com:8443, /x, https://example.com:8443/x",
            "http, '[::1]:80', /, 'http://[::1]/'",
            "http, '[::1]:8080', /, 'http://[::1]:8080/'",
            "http, '[::1]', /, 'http://[::1]/'",
            "http, example.com:, /, http://example.com/",
            "http, example.com, '', http://example.com/",
            "http, example.com, /a?, http://example.com/a",
            "http, example.com, /a%2Fb%2f?q=%41, http://example.com/a%2Fb%2f?q=%41",
            "http, example.com, /a#frag, http://example.com/a",
            "http, proxy.local, http://Origin.example:80/p?q=1, http://origin.example/p?q=1",
            "http, proxy.local, https://user@origin.example/p, https://origin.example/p",
            "http, proxy.local, http://origin.example, http://origin.example/",
    })
    void base(String scheme, String host, String uri, String expected) {
        assertThat(DEFAULT.key(scheme, host, uri, NONE)).isEqualTo(expected);
        assertThat(DEFAULT.base(scheme, host, uri)).isEqualTo(expected);
    }

    @Test
    void missingHost() {
        assertThat(DEFAULT.key("http", null, "/a", NONE)).isEqualTo("http:///a");
    }

    @Test
    void methodIndependent() {
        // The key has no method: GET and HEAD share it by construction.
        assertThat(DEFAULT.key("http", "h", "/a", of("X", "1"))).isEqualTo(DEFAULT.key("http", "h", "/a", NONE));
    }

    @ParameterizedTest(name = "{0}: {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "AS_IS|/p?b=2&a=1|http://h/p?b=2&a=1",
            "SORTED|/p?b=2&a=1&c|http://h/p?a=1&b=2&c",
            "SORTED|/p?a=2&b=1&a=1|http://h/p?a=2&a=1&b=1",
            "SORTED|/p?&&b=1&&a=|http://h/p?a=&b=1",
            "SORTED|/p?&|http://h/p",
            "IGNORE|/p?b=2&a=1|http://h/p",
    })
    void queryShaping(Query q, String uri, String expected) {
        assertThat(query(q).key("http", "h", uri, NONE)).isEqualTo(expected);
    }

    @Test
    void onlyAndIgnoreParams() {
        CacheKeys only = query(Query.ONLY, "id", "page");
        assertThat(only.key("http", "h", "/p?utm_source=x&page=2&id=7&ID=8", NONE)).isEqualTo("http://h/p?page=2&id=7");
        assertThat(only.key("http", "h", "/p?utm=1", NONE)).isEqualTo("http://h/p");
        CacheKeys ignore = query(Query.IGNORE_PARAMS, "utm_source", "fbclid");
        assertThat(ignore.key("http", "h", "/p?utm_source=x&page=2&fbclid&b=%20", NONE))
                .isEqualTo("http://h/p?page=2&b=%20");
    }

    @Test
    void extraHeadersAndCookies() {
        CacheKeys keys = new CacheKeys(new RouteCacheConfig.Key(List.of("x-device", "accept-language"),
                List.of("ab", "theme"), Query.AS_IS, List.of()));
        String k = keys.key("http", "h", "/p", of("X-Device", "mobile", "Accept-Language", "en",
                "accept-language", "fr", "Cookie", "session=secret; ab=B", "Cookie", "theme=dark; ab=C"));
        assertThat(k).isEqualTo("http://h/p\nh:x-device=mobile\nh:accept-language=en,fr\nc:ab=B\nc:theme=dark");
        assertThat(CacheKeys.baseOf(k)).isEqualTo("http://h/p");
        String absent = keys.key("http", "h", "/p", of("X-Device", ""));
        assertThat(absent).isEqualTo("http://h/p\nh:x-device=\nh:accept-language!\nc:ab!\nc:theme!");
        assertThat(keys.key("http", "h", "/p", of("Cookie", "session=other; ab=B", "X-Device", "mobile",
                "Accept-Language", "en,fr", "Cookie", "theme=dark"))).isEqualTo(k);
    }

    @Test
    void baseOfAKeyWithoutExtras() {
        assertThat(CacheKeys.baseOf("http://h/p")).isEqualTo("http://h/p");
    }
}
