package dev.portcullis.http.filters.compression;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.CompressConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class MediaTypesTest {
    private final MediaTypes defaults = new MediaTypes(CompressConfig.DEFAULTS.types());

    @Test
    void exactAndWildcardIgnoringParametersAndCase() {
        assertThat(defaults.matches("text/html")).isTrue();
        assertThat(defaults.matches("text/plain; charset=utf-8")).isTrue();
        assertThat(defaults.matches("TEXT/CSS")).isTrue();
        assertThat(defaults.matches(" application/json ;charset=UTF-8")).isTrue();
        assertThat(defaults.matches("application/JSON")).isTrue();
        assertThat(defaults.matches("image/svg+xml")).isTrue();
        assertThat(defaults.matches("application/jsonx")).isFalse();
        assertThat(defaults.matches("application/octet-stream")).isFalse();
        assertThat(defaults.matches("image/png")).isFalse();
        assertThat(defaults.matches("textual/html")).isFalse();
    }

    @Test
    void missingOrMalformedNeverMatches() {
        assertThat(defaults.matches(null)).isFalse();
        assertThat(defaults.matches("")).isFalse();
        assertThat(defaults.matches("text")).isFalse();
        assertThat(defaults.matches("text/")).isFalse();
        assertThat(defaults.matches("; charset=utf-8")).isFalse();
    }

    @Test
    void anyTypeButNeverGrpc() {
        MediaTypes any = new MediaTypes(List.of("*/*"));
        assertThat(any.matches("application/octet-stream")).isTrue();
        assertThat(any.matches("application/grpc")).isFalse();
        assertThat(any.matches("application/grpc+proto")).isFalse();
        assertThat(any.matches("application/grpc-web-text")).isFalse();
        MediaTypes app = new MediaTypes(List.of("application/*"));
        assertThat(app.matches("application/grpc; charset=utf-8")).isFalse();
        assertThat(app.matches("application/xml")).isTrue();
        assertThat(app.matches("text/xml")).isFalse();
    }
}
