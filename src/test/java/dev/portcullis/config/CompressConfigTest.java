package dev.portcullis.config;

import static dev.portcullis.config.ConfigErrorsTest.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Route {@code compress}: what is accepted, and errors that name file, line and key. */
class CompressConfigTest {
    private static String route(String compress) {
        return """
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes:
                      - name: r
                        upstream: backend
                        compress: %s
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """.formatted(compress);
    }

    private static CompressConfig parse(String compress) throws ConfigException {
        return ConfigLoader.parse(route(compress), "t.yaml", Map.of()).listeners().get(0).routes().get(0).compress();
    }

    @Test
    void trueFalseAndAMapping() throws ConfigException {
        assertThat(parse("true")).isEqualTo(CompressConfig.DEFAULTS);
        assertThat(parse("false")).isNull();
        CompressConfig c = parse("{ algorithms: [gzip, BR], min_size: 0, types: [text/*, Application/JSON] }");
        assertThat(c.algorithms()).containsExactly(CompressConfig.Algorithm.GZIP, CompressConfig.Algorithm.BR);
        assertThat(c.minSize()).isZero();
        assertThat(c.types()).containsExactly("text/*", "application/json");
        assertThat(parse("{ min_size: 4KiB }").minSize()).isEqualTo(4096);
        assertThat(parse("{ min_size: 4KiB }").algorithms()).isEqualTo(CompressConfig.DEFAULTS.algorithms());
    }

    @Test
    void unknownAlgorithm() {
        assertThat(errors(route("{ algorithms: [br, deflate] }"))).containsExactly(
                "t.yaml:7: listeners[0].routes[0].compress.algorithms[1]: unknown algorithm 'deflate'; expected br, zstd or gzip");
    }

    @Test
    void duplicateAlgorithm() {
        List<String> e = errors(route("{ algorithms: [gzip, br, GZIP] }"));
        assertThat(e).singleElement().asString().startsWith("t.yaml:7: listeners[0].routes[0].compress.algorithms")
                .contains("'gzip' is listed twice");
    }

    @Test
    void badMediaType() {
        assertThat(errors(route("{ types: [text/html, json] }"))).singleElement().asString()
                .startsWith("t.yaml:7: listeners[0].routes[0].compress.types[1]: invalid media type 'json'");
        assertThat(errors(route("{ types: [\"text/ html\"] }"))).singleElement().asString()
                .contains("invalid media type");
    }

    @Test
    void unknownKeyAndBadValues() {
        assertThat(errors(route("{ level: 9 }"))).singleElement().asString()
                .startsWith("t.yaml:7: listeners[0].routes[0].compress.level: ");
        assertThat(errors(route("{ min_size: lots }"))).singleElement().asString()
                .startsWith("t.yaml:7: listeners[0].routes[0].compress.min_size: ");
        assertThat(errors(route("{ algorithms: [] }"))).singleElement().asString()
                .contains("at least one algorithm");
        assertThat(errors(route("maybe"))).singleElement().asString()
                .startsWith("t.yaml:7: listeners[0].routes[0].compress: ");
    }
}
