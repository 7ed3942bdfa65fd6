package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
    @Test
    void generatedIdsAre32LowerHexDigitsAndDistinct() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = RequestIds.generate();
            assertThat(id).matches("[0-9a-f]{32}");
            assertThat(RequestIds.isWellFormed(id)).isTrue();
            ids.add(id);
        }
        assertThat(ids).hasSize(1000);
    }

    @Test
    void wellFormedClientIds() {
        assertThat(RequestIds.isWellFormed("a")).isTrue();
        assertThat(RequestIds.isWellFormed("abc-123_x.y:z+w=/v")).isTrue();
        assertThat(RequestIds.isWellFormed("550e8400-e29b-41d4-a716-446655440000")).isTrue();
        assertThat(RequestIds.isWellFormed("x".repeat(128))).isTrue();
    }

    @Test
    void malformedClientIds() {
        assertThat(RequestIds.isWellFormed(null)).isFalse();
        assertThat(RequestIds.isWellFormed("")).isFalse();
        assertThat(RequestIds.isWellFormed("x".repeat(129))).isFalse();
        assertThat(RequestIds.isWellFormed("has space")).isFalse();
        assertThat(RequestIds.isWellFormed("quote\"")).isFalse();
        assertThat(RequestIds.isWellFormed("<script>")).isFalse();
        assertThat(RequestIds.isWellFormed("new\nline")).isFalse();
        assertThat(RequestIds.isWellFormed("tab\t")).isFalse();
        assertThat(RequestIds.isWellFormed("caf\u00e9")).isFalse();
        assertThat(RequestIds.isWellFormed("a,b")).isFalse();
        assertThat(RequestIds.isWellFormed("{request.id}")).isFalse();
    }
}
