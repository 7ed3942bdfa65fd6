package dev.portcullis.testing;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.runtime.ConfigSource;
import dev.portcullis.runtime.Portcullis;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * Portcullis started in the test's JVM from a YAML string. Bind listeners and admin to 127.0.0.1:0 in the
 * YAML; {@link #port(String)} tells the port the OS chose. {@link #reload(String)} swaps the YAML and reloads.
 * Access log defaults to off unless the YAML says otherwise.
 */
public final class TestProxy implements AutoCloseable {
    private volatile String yaml;
    private final Portcullis process;

    private TestProxy(String yaml) throws Exception {
        this.yaml = yaml;
        ConfigSource source = new ConfigSource() {
            @Override
            public PortcullisConfig load() throws dev.portcullis.config.ConfigException {
                return ConfigLoader.parse(TestProxy.this.yaml, "test.yaml", Map.of());
            }

            @Override
            public Path file() {
                return null;
            }
        };
        this.process = Portcullis.start(source);
    }

    /** Adds {@code admin: {bind: 127.0.0.1:0}} and {@code access_log: {path: off}} when the YAML has none. */
    public static TestProxy start(String yaml) throws Exception {
        String y = yaml;
        if (!y.contains("admin:")) {
            y = "admin: { bind: 127.0.0.1:0 }\n" + y;
        }
        if (!y.contains("access_log:")) {
            y = "access_log: { path: off }\n" + y;
        }
        return new TestProxy(y);
    }

    /**
     * The most common test setup: listener {@code web} on a free port whose one route sends everything to
     * upstream {@code be} with the given endpoints (comma-separated addresses).
     */
    public static TestProxy toOneUpstream(String endpoints) throws Exception {
        return toOneUpstream(endpoints, "", "");
    }

    /**
     * @param topLevel      YAML put before {@code listeners:} (e.g. {@code "transport: nio\n"})
     * @param upstreamExtra more keys of upstream {@code be}, each starting with ", " (e.g. {@code ", connect_timeout: 2s"})
     */
    public static TestProxy toOneUpstream(String endpoints, String topLevel, String upstreamExtra) throws Exception {
        return start(oneRouteYaml(topLevel, endpoints, upstreamExtra, ""));
    }

    /**
     * The YAML of {@link #toOneUpstream}: listener {@code web}, one route to upstream {@code be}.
     *
     * @param routeExtra more keys of the route, as YAML lines (e.g. {@code "retry: { attempts: 3 }"})
     */
    public static String oneRouteYaml(String topLevel, String endpoints, String upstreamExtra, String routeExtra) {
        return topLevel + """
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                %s
                upstreams:
                  be: { endpoints: [%s]%s }
                """.formatted(routeExtra.indent(8).stripTrailing(), endpoints, upstreamExtra);
    }

    public int port(String listener) {
        return process.listenerAddress(listener).getPort();
    }

    public URI uri(String listener, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port(listener) + pathAndQuery);
    }

    public int adminPort() {
        return process.adminAddress().getPort();
    }

    public Portcullis process() {
        return process;
    }

    public ReloadOutcome reload(String newYaml) {
        String y = newYaml;
        if (!y.contains("admin:")) {
            y = "admin: { bind: 127.0.0.1:0 }\n" + y;
        }
        if (!y.contains("access_log:")) {
            y = "access_log: { path: off }\n" + y;
        }
        this.yaml = y;
        return process.reload("test");
    }

    @Override
    public void close() {
        process.drainAndStop();
    }
}
