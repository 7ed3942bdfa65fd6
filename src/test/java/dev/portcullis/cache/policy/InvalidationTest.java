package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.RouteCacheConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InvalidationTest {
    private static final CacheKeys KEYS = new CacheKeys(RouteCacheConfig.Key.DEFAULT);

    private static List<String> targets(String method, int status, String... response) {
        return Invalidation.targets(method, status, "http", "Example.com", "/items?x=1", of(response), KEYS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "PURGE", "FOO", "get"})
    void unsafeMethodsInvalidateTheTarget(String method) {
        assertThat(targets(method, 200)).containsExactly("http://example.com/items?x=1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "OPTIONS", "TRACE"})
    void safeMethodsDoNot(String method) {
        assertThat(targets(method, 200)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 199, 400, 404, 500, 503})
    void errorsDoNot(int status) {
        assertThat(targets("POST", status)).isEmpty();
    }

    @Test
    void redirectsDo() {
        assertThat(targets("POST", 303, "Location", "/done")).containsExactly("http://example.com/items?x=1",
                "http://example.com/done");
    }

    @Test
    void locationAndContentLocationOfTheSameOrigin() {
        assertThat(targets("POST", 201, "Location", "/items/7", "Content-Location", "http://EXAMPLE.com:80/items/7/a"))
                .containsExactly("http://example.com/items?x=1", "http://example.com/items/7",
                        "http://example.com/items/7/a");
        assertThat(targets("PUT", 200, "Content-Location", "sub?y=2"))
                .containsExactly("http://example.com/items?x=1", "http://example.com/sub?y=2");
    }

    @Test
    void userinfoIsNotPartOfTheKey() {
        assertThat(targets("POST", 201, "Location", "http://joe@example.com/items/8"))
                .containsExactly("http://example.com/items?x=1", "http://example.com/items/8");
    }

    @Test
    void ipv6Origins() {
        assertThat(Invalidation.targets("DELETE", 204, "http", "[::1]:8080", "/a", of("Location", "/b"), KEYS))
                .containsExactly("http://[::1]:8080/a", "http://[::1]:8080/b");
    }

    @Test
    void otherOriginsAreNeverTouched() {
        assertThat(targets("POST", 201, "Location", "http://other.example/items/7")).hasSize(1);
        assertThat(targets("POST", 201, "Location", "https://example.com/items/7")).hasSize(1);
        assertThat(targets("POST", 201, "Location", "http://example.com:8080/items/7")).hasSize(1);
        assertThat(targets("POST", 201, "Location", "//other.example/x")).hasSize(1);
    }

    @Test
    void malformedLocationInvalidatesOnlyTheTarget() {
        assertThat(targets("POST", 201, "Location", "/a b", "Content-Location", "http://[bad")).hasSize(1);
    }

    @Test
    void duplicatesAreListedOnce() {
        assertThat(targets("POST", 200, "Location", "/items?x=1", "Content-Location", "/items?x=1")).hasSize(1);
    }

    @Test
    void theRoutesQueryShapingApplies() {
        CacheKeys sorted = new CacheKeys(new RouteCacheConfig.Key(List.of(), List.of(),
                RouteCacheConfig.Query.SORTED, List.of()));
        assertThat(Invalidation.targets("POST", 204, "https", "example.com:443", "/a?b=2&a=1",
                of("Location", "/c?z=1&y=2"), sorted))
                .containsExactly("https://example.com/a?a=1&b=2", "https://example.com/c?y=2&z=1");
    }
}
