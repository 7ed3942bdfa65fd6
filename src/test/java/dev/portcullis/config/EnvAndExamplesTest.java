package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvAndExamplesTest {

    static final String CONFIG = """
            # ${NOT_SET_ANYWHERE} in a comment is left alone
            admin:
              bind: ${ADMIN_BIND:-127.0.0.1:9901}
              token: ${TOKEN:-}
            listeners:
              - name: ${NAME}
                bind: "127.0.0.1:${PORT:-8080}"   # ${ALSO_NOT_SET}
                routes: [ { upstream: backend } ]
            upstreams:
              backend: { endpoints: ["${BACKEND_HOST:-127.0.0.1}:9001"] }
            """;

    @Test
    void variablesAndDefaults() throws Exception {
        PortcullisConfig c = ConfigLoader.parse(CONFIG, "t.yaml", Map.of("NAME", "web", "PORT", "8181", "TOKEN", "t0k"));
        assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9901), "t0k"));
        assertThat(c.listeners().get(0).name()).isEqualTo("web");
        assertThat(c.listeners().get(0).bind()).isEqualTo(new HostPort("127.0.0.1", 8181));
        assertThat(c.upstreams().get("backend").endpoints().get(0).address()).isEqualTo(new HostPort("127.0.0.1", 9001));
    }

    @Test
    void emptyDefaultAndSetValueWinsOverDefault() throws Exception {
        PortcullisConfig c = ConfigLoader.parse(CONFIG, "t.yaml", Map.of("NAME", "w", "ADMIN_BIND", "127.0.0.1:9999",
                "BACKEND_HOST", "10.1.1.1"));
        assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9999), ""));
        assertThat(c.admin().tokenRequired()).isFalse();
        assertThat(c.listeners().get(0).bind().port()).isEqualTo(8080);
        assertThat(c.upstreams().get("backend").endpoints().get(0).address()).isEqualTo(new HostPort("10.1.1.1", 9001));
    }

    @Test
    void unsetVariableWithoutDefaultIsAnErrorAtItsLine() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(CONFIG + "workers: none\n", "t.yaml", Map.of()));
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(
                "t.yaml:6: environment variable 'NAME' is not set (write ${NAME:-default} to give a default)",
                "t.yaml:11: workers: invalid workers 'none'; expected auto or a number 1..1024");
    }

    @Test
    void loadReadsAFileAndSetsSource(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, Files.readString(Path.of("examples", "seed-nginx.yaml")));
        PortcullisConfig c = ConfigLoader.load(file);
        assertThat(c.source()).isEqualTo(file);
        Files.writeString(file, "workers: -1\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));
        assertThat(e.errors().get(0).file()).isEqualTo(file.toString());
    }

    @Test
    void seedNginxExampleIsWhatItSays() throws Exception {
        PortcullisConfig c = ConfigLoader.load(Path.of("examples", "seed-nginx.yaml"));
        assertThat(c.admin().bind()).isEqualTo(new HostPort("127.0.0.1", 9901));
        ListenerConfig l = c.listeners().get(0);
        assertThat(l.bind()).isEqualTo(new HostPort("127.0.0.1", 8080));
        RouteConfig r = l.routes().get(0);
        assertThat(r.match().pathPrefix()).isEqualTo("/");
        assertThat(r.headers().request().set()).containsExactly(
                Map.entry("Host", "{request.host}"), Map.entry("X-Real-IP", "{client.ip}"));
        assertThat(r.action()).isEqualTo(new RouteAction.Proxy("backend"));
        assertThat(c.upstreams().get("backend").endpoints()).extracting(UpstreamConfig.EndpointConfig::address)
                .containsExactly(new HostPort("127.0.0.1", 9001), new HostPort("127.0.0.1", 9002));
    }

    @Test
    void everyExampleLoads() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("examples"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        assertThat(files).contains(Path.of("examples", "seed-nginx.yaml"));
        List<String> problems = new ArrayList<>();
        for (Path f : files) {
            try {
                ConfigLoader.load(f);
            } catch (ConfigException e) {
                problems.add(e.getMessage());
            }
        }
        assertThat(problems).isEmpty();
    }
}
