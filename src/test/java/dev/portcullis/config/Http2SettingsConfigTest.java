package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code listeners[].http2}: defaults, values, and the errors for bad ones. */
class Http2SettingsConfigTest {
    private static final String YAML = """
            listeners:
              - name: web
                bind: 127.0.0.1:8080
            %s
                routes: [ { upstream: backend } ]
            upstreams:
              backend: { endpoints: [127.0.0.1:9001] }
            """;

    @Test
    void defaults() throws Exception {
        PortcullisConfig c = ConfigLoader.parse(YAML.formatted(""), "t.yaml", Map.of());
        Http2Settings h = c.listeners().get(0).http2();
        assertThat(h).isSameAs(Http2Settings.DEFAULTS);
        assertThat(h.enabled()).isTrue();
        assertThat(h.maxConcurrentStreams()).isEqualTo(128);
        assertThat(h.initialWindowSize()).isEqualTo(256 * 1024);
        assertThat(h.connectionWindowSize()).isEqualTo(8 * 256 * 1024);
    }

    @Test
    void values() throws Exception {
        PortcullisConfig c = ConfigLoader.parse(YAML.formatted(
                "    http2: { enabled: false, max_concurrent_streams: 16, initial_window_size: 1MiB }"), "t.yaml",
                Map.of());
        assertThat(c.listeners().get(0).http2()).isEqualTo(new Http2Settings(false, 16, 1 << 20));
        // a window as large as the protocol allows: the connection's is capped at 2^31-1
        Http2Settings max = new Http2Settings(true, 1, Integer.MAX_VALUE);
        assertThat(max.connectionWindowSize()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void badValuesAndUnknownKeys() {
        assertThat(ConfigErrorsTest.errors(YAML.formatted(
                "    http2: { enabled: maybe, max_concurrent_streams: 0, initial_window_size: 2GiB, max_streams: 5 }")))
                .containsExactly(
                        "t.yaml:4: listeners[0].http2.max_streams: unknown key 'max_streams'; expected one of: enabled, max_concurrent_streams, initial_window_size",
                        "t.yaml:4: listeners[0].http2.enabled: invalid boolean 'maybe'; expected true or false (also yes/no, on/off)",
                        "t.yaml:4: listeners[0].http2.max_concurrent_streams: '0' is out of range; expected 1..10000",
                        "t.yaml:4: listeners[0].http2.initial_window_size: size '2GiB' is out of range; expected 1..2147483647 bytes");
    }
}
