package dev.portcullis.http.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.MatchConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    /** A request as the router sees it. */
    private record Facts(HttpRequest request, String path, Map<String, List<String>> queryParameters,
                         byte[] clientAddress) implements RequestFacts {
    }

    private static Facts req(String method, String uri, String client, String... headers) throws Exception {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        QueryStringDecoder d = new QueryStringDecoder(uri);
        return new Facts(r, d.path(), d.parameters(), InetAddress.getByName(client).getAddress());
    }

    private static Facts get(String uri) throws Exception {
        return req("GET", uri, "127.0.0.1");
    }

    private static final class Builder {
        private final List<RouteTable.Entry<String>> entries = new ArrayList<>();

        Builder route(String name, MatchConfig m) {
            entries.add(new RouteTable.Entry<>(name, m));
            return this;
        }

        RouteTable<String> build() {
            return RouteTable.build(entries);
        }
    }

    private static MatchConfig hosts(List<String> hosts, String path, String prefix, String regex) {
        return new MatchConfig(hosts, path, prefix, regex, List.of(), Map.of(), Map.of(), List.of());
    }

    private static MatchConfig prefix(String p) {
        return hosts(List.of(), null, p, null);
    }

    private static MatchConfig exact(String p) {
        return hosts(List.of(), p, null, null);
    }

    private static MatchConfig regex(String r) {
        return hosts(List.of(), null, null, r);
    }

    @Test
    void firstMatchWinsAcrossExactPrefixAndRegex() throws Exception {
        RouteTable<String> t = new Builder()
                .route("regex-png", regex("\\.png$"))
                .route("prefix-api", prefix("/api/"))
                .route("exact-api-x", exact("/api/x"))
                .route("exact-health", exact("/health"))
                .route("prefix-api-long", prefix("/api/long/"))
                .route("catch-all", prefix("/"))
                .build();
        assertThat(t.match("h", get("/api/x"))).isEqualTo("prefix-api");
        assertThat(t.match("h", get("/api/long/y"))).isEqualTo("prefix-api");
        assertThat(t.match("h", get("/api/a.png"))).isEqualTo("regex-png");
        assertThat(t.match("h", get("/health"))).isEqualTo("exact-health");
        assertThat(t.match("h", get("/health/x"))).isEqualTo("catch-all");
        assertThat(t.match("h", get("/healthz"))).isEqualTo("catch-all");
        assertThat(t.match("h", get("/api"))).isEqualTo("catch-all");
        assertThat(t.match(null, get("/x"))).isEqualTo("catch-all");
    }

    @Test
    void laterExactRouteLosesToEarlierPrefixAndWinsOverLaterOnes() throws Exception {
        RouteTable<String> t = new Builder()
                .route("exact", exact("/a/b"))
                .route("prefix-a", prefix("/a"))
                .route("regex", regex("^/a"))
                .build();
        assertThat(t.match("h", get("/a/b"))).isEqualTo("exact");
        assertThat(t.match("h", get("/a/b?x=1"))).isEqualTo("exact");
        assertThat(t.match("h", get("/a/c"))).isEqualTo("prefix-a");
        assertThat(t.match("h", get("/b"))).isNull();
    }

    @Test
    void hostExactWildcardAndHostLessInConfigOrder() throws Exception {
        RouteTable<String> t = new Builder()
                .route("any-admin", prefix("/admin"))
                .route("a-exact", hosts(List.of("a.example.com"), null, "/", null))
                .route("wild", hosts(List.of("*.example.com"), null, "/", null))
                .route("apex", hosts(List.of("example.com"), null, "/", null))
                .route("fallback", prefix("/"))
                .build();
        assertThat(t.match("a.example.com", get("/admin/x"))).isEqualTo("any-admin");
        assertThat(t.match("a.example.com", get("/"))).isEqualTo("a-exact");
        assertThat(t.match("b.example.com", get("/"))).isEqualTo("wild");
        assertThat(t.match("a.b.example.com", get("/"))).isEqualTo("wild");
        assertThat(t.match("example.com", get("/"))).isEqualTo("apex");
        assertThat(t.match("badexample.com", get("/"))).isEqualTo("fallback");
        assertThat(t.match("example.org", get("/"))).isEqualTo("fallback");
        assertThat(t.match("", get("/"))).isEqualTo("fallback");
    }

    @Test
    void wildcardDoesNotMatchTheApex() throws Exception {
        RouteTable<String> t = new Builder()
                .route("wild", hosts(List.of("*.example.com"), null, null, null))
                .build();
        assertThat(t.match("a.b.example.com", get("/"))).isEqualTo("wild");
        assertThat(t.match("a.example.com", get("/"))).isEqualTo("wild");
        assertThat(t.match("example.com", get("/"))).isNull();
        assertThat(t.match("xexample.com", get("/"))).isNull();
        assertThat(t.match("com", get("/"))).isNull();
    }

    @Test
    void earlierWildcardBeatsLaterExactAndBroaderBeatsNarrowerWhenFirst() throws Exception {
        RouteTable<String> t = new Builder()
                .route("broad", hosts(List.of("*.example.com"), null, "/broad", null))
                .route("narrow", hosts(List.of("*.b.example.com"), null, "/", null))
                .route("exact", hosts(List.of("x.b.example.com"), null, "/", null))
                .route("broad-all", hosts(List.of("*.example.com"), null, "/", null))
                .build();
        assertThat(t.match("x.b.example.com", get("/broad"))).isEqualTo("broad");
        assertThat(t.match("x.b.example.com", get("/"))).isEqualTo("narrow");
        assertThat(t.match("y.b.example.com", get("/"))).isEqualTo("narrow");
        assertThat(t.match("y.c.example.com", get("/"))).isEqualTo("broad-all");
    }

    @Test
    void routeWithSeveralHosts() throws Exception {
        RouteTable<String> t = new Builder()
                .route("multi", hosts(List.of("a.test", "*.b.test"), null, null, null))
                .route("rest", MatchConfig.ANY)
                .build();
        assertThat(t.match("a.test", get("/"))).isEqualTo("multi");
        assertThat(t.match("x.b.test", get("/"))).isEqualTo("multi");
        assertThat(t.match("b.test", get("/"))).isEqualTo("rest");
    }

    @Test
    void methodHeaderQueryAndSourcePredicates() throws Exception {
        RouteTable<String> t = new Builder()
                .route("post", new MatchConfig(List.of(), null, "/", null, List.of("POST", "PUT"), Map.of(), Map.of(),
                        List.of()))
                .route("header", new MatchConfig(List.of(), null, "/", null, List.of(), Map.of("X-Env", "canary"),
                        Map.of(), List.of()))
                .route("query", new MatchConfig(List.of(), null, "/", null, List.of(), Map.of(), Map.of("v", "2"),
                        List.of()))
                .route("internal", new MatchConfig(List.of(), null, "/", null, List.of(), Map.of(), Map.of(),
                        List.of("10.0.0.0/8", "fd00::/8")))
                .route("rest", MatchConfig.ANY)
                .build();
        assertThat(t.match("h", req("POST", "/", "1.2.3.4"))).isEqualTo("post");
        assertThat(t.match("h", req("PUT", "/", "1.2.3.4"))).isEqualTo("post");
        assertThat(t.match("h", req("GET", "/", "1.2.3.4", "X-Env", "canary"))).isEqualTo("header");
        assertThat(t.match("h", req("GET", "/", "1.2.3.4", "x-env", "canary"))).isEqualTo("header");
        assertThat(t.match("h", req("GET", "/", "1.2.3.4", "X-Env", "prod"))).isEqualTo("rest");
        assertThat(t.match("h", req("GET", "/", "1.2.3.4", "X-Env", "prod", "X-Env", "canary")))
                .isEqualTo("header");
        assertThat(t.match("h", req("GET", "/?v=2", "1.2.3.4"))).isEqualTo("query");
        assertThat(t.match("h", req("GET", "/?a=1&v=3&v=2", "1.2.3.4"))).isEqualTo("query");
        assertThat(t.match("h", req("GET", "/?v=3", "1.2.3.4"))).isEqualTo("rest");
        assertThat(t.match("h", req("GET", "/", "10.200.0.1"))).isEqualTo("internal");
        assertThat(t.match("h", req("GET", "/", "::ffff:10.200.0.1"))).isEqualTo("internal");
        assertThat(t.match("h", req("GET", "/", "fd12::1"))).isEqualTo("internal");
        assertThat(t.match("h", req("GET", "/", "11.0.0.1"))).isEqualTo("rest");
        assertThat(t.match("h", req("GET", "/", "fe80::1"))).isEqualTo("rest");
    }

    @Test
    void allConditionsOfOneRouteMustHold() throws Exception {
        RouteTable<String> t = new Builder()
                .route("both", new MatchConfig(List.of("api.test"), null, "/v1/", null, List.of("GET"),
                        Map.of(), Map.of(), List.of("127.0.0.1")))
                .build();
        assertThat(t.match("api.test", req("GET", "/v1/x", "127.0.0.1"))).isEqualTo("both");
        assertThat(t.match("api.test", req("POST", "/v1/x", "127.0.0.1"))).isNull();
        assertThat(t.match("api.test", req("GET", "/v2/x", "127.0.0.1"))).isNull();
        assertThat(t.match("api.test", req("GET", "/v1/x", "127.0.0.2"))).isNull();
        assertThat(t.match("other.test", req("GET", "/v1/x", "127.0.0.1"))).isNull();
    }

    @Test
    void normalizeHost() {
        assertThat(RouteTable.normalizeHost("Example.COM.:8080")).isEqualTo("example.com");
        assertThat(RouteTable.normalizeHost("example.com:80")).isEqualTo("example.com");
        assertThat(RouteTable.normalizeHost("EXAMPLE.com")).isEqualTo("example.com");
        assertThat(RouteTable.normalizeHost("example.com.")).isEqualTo("example.com");
        assertThat(RouteTable.normalizeHost("[::1]:8080")).isEqualTo("[::1]");
        assertThat(RouteTable.normalizeHost("[::1]")).isEqualTo("[::1]");
        assertThat(RouteTable.normalizeHost("10.0.0.1:443")).isEqualTo("10.0.0.1");
        assertThat(RouteTable.normalizeHost(null)).isEmpty();
        String plain = "already.lower";
        assertThat(RouteTable.normalizeHost(plain)).isSameAs(plain);
    }

    @Test
    void normalizedHostsMatchRoutes() throws Exception {
        RouteTable<String> t = new Builder()
                .route("exact", hosts(List.of("example.com"), null, null, null))
                .route("wild", hosts(List.of("*.example.com"), null, null, null))
                .build();
        assertThat(t.match(RouteTable.normalizeHost("EXAMPLE.com.:8443"), get("/"))).isEqualTo("exact");
        assertThat(t.match(RouteTable.normalizeHost("WWW.Example.Com:80"), get("/"))).isEqualTo("wild");
    }
}
