package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathNormalizerTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "/a/./b, /a/b",
            "/a/../b, /b",
            "/../x, /x",
            "/../../x, /x",
            "/a/.., /",
            "/a/., /a/",
            "/a/b/.., /a/",
            "/public/%2e%2e/admin, /admin",
            "/public/%2E./admin, /admin",
            "/a/%2e/b, /a/b",
            "/., /",
            "/.., /",
            "/a/./../b/./c, /b/c",
            "/public/../admin, /admin",
            "/a//../b, /a/b",
            "/a/b/../../../c, /c",
    })
    void removesDotSegments(String in, String out) {
        assertThat(PathNormalizer.removeDotSegments(in)).isEqualTo(out);
    }

    @org.junit.jupiter.api.Test
    void otherEscapesKeepTheirMeaning() {
        assertThat(PathNormalizer.removeDotSegments("/a%2fb/%2e%2ex/%41")).isEqualTo("/a%2fb/..x/%41");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/a/b", "/a.b/c.", "/.well-known/x", "/a/..b", "/a/.b/", "/a/b..", "/%2f/x",
            "/a/...", "/a//b"})
    void pathsWithoutDotSegmentsAreReturnedAsTheSameInstance(String path) {
        String p = new String(path);
        assertThat(PathNormalizer.removeDotSegments(p)).isSameAs(p);
    }
}
