package dev.portcullis.upstream.health;

import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Small helpers shared by the health, agent, discovery and failover tests. */
public final class Proxies {
    public static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private Proxies() {}

    public static Upstream upstream(TestProxy p, String name) {
        return p.process().snapshot().upstreams().get(name);
    }

    /** The endpoint of upstream {@code be} on that host and port (null when it has none). */
    public static Endpoint endpoint(TestProxy p, String host, int port) {
        for (Endpoint e : upstream(p, "be").endpoints()) {
            if (e.socketAddress().getPort() == port && e.socketAddress().getAddress().getHostAddress().equals(host)) {
                return e;
            }
        }
        return null;
    }

    public static Endpoint endpoint(TestProxy p, HealthBackend b) {
        return endpoint(p, b.host(), b.port());
    }

    /** GET through the proxy; the response body (the backend's name) or "STATUS n" when not 200. */
    public static String get(TestProxy p, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.port("web") + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? r.body() : "STATUS " + r.statusCode();
    }

    /** Sends {@code n} GETs one after the other; throws if one is not a 200. */
    public static void send(TestProxy p, int n) throws IOException, InterruptedException {
        for (int i = 0; i < n; i++) {
            String body = get(p, "/r" + i);
            if (body.startsWith("STATUS")) {
                throw new AssertionError("request " + i + " answered " + body);
            }
        }
    }
}
