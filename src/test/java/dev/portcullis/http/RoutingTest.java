package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Route matching and route features: headers, rewrite, redirect, respond, defaults. */
class RoutingTest {
    static TestBackend backend;
    static TestProxy proxy;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start("be");
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    routes:
                      - name: api-host
                        match: { host: api.example.com }
                        respond: { status: 200, body: host-exact }
                      - name: wild-host
                        match: { host: "*.example.com" }
                        respond: { status: 200, body: host-wild }
                      - name: hdr
                        match: { path_prefix: /hdr }
                        upstream: be
                        headers:
                          request:
                            set:
                              X-Client: "{client.ip}"
                              X-Host: "{request.host}"
                              X-Id: "{request.id}"
                              X-Route: "{route.name}"
                              X-Method: "{request.method}"
                              X-Path: "{request.path}"
                            add: { X-Multi: two }
                            remove: [X-Drop]
                          response:
                            set: { X-Resp: "r-{route.name}" }
                            remove: [Content-Type]
                      - name: strip
                        match: { path_prefix: /api/ }
                        rewrite: { strip_prefix: /api }
                        upstream: be
                      - name: addp
                        match: { path_prefix: /v2/ }
                        rewrite: { add_prefix: /internal }
                        upstream: be
                      - name: rx
                        match: { path_regex: "^/users/[0-9]+$" }
                        rewrite: { regex: { pattern: "^/users/([0-9]+)$", replace: "/profiles/$1" } }
                        upstream: be
                      - match: { path: /r301 }
                        redirect: { to: "https://example.com{request.path}", status: 301 }
                      - match: { path: /r302 }
                        redirect: { to: "/elsewhere{request.path}" }
                      - match: { path: /r307 }
                        redirect: { to: "/t{request.path}", status: 307 }
                      - match: { path: /r308 }
                        redirect: { to: "/t{request.path}", status: 308 }
                      - name: teapot
                        match: { path: /teapot }
                        respond: { status: 418, body: "short and stout", headers: { X-Pot: "{route.name}" } }
                      - match: { path: /exact }
                        respond: { status: 200, body: path-exact }
                      - match: { path: /m, methods: [POST, PUT] }
                        respond: { status: 200, body: methods }
                      - match: { path: /h, headers: { X-Flag: yes-please } }
                        respond: { status: 200, body: header-match }
                      - match: { path: /q, query: { mode: fast } }
                        respond: { status: 200, body: query-match }
                      - match: { path: /src-10, source: 10.0.0.0/8 }
                        respond: { status: 200, body: src-10 }
                      - match: { path: /src-127, source: 127.0.0.0/8 }
                        respond: { status: 200, body: src-127 }
                      - match: { path_prefix: /first }
                        respond: { status: 200, body: first-a }
                      - match: { path_prefix: /first }
                        respond: { status: 200, body: first-b }
                      - match: { path_prefix: /admin }
                        respond: { status: 200, body: admin }
                      - match: { path_prefix: /public }
                        respond: { status: 200, body: public }
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(backend.address()));
        port = proxy.port("web");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        backend.close();
    }

    @BeforeEach
    void clear() {
        backend.seen.clear();
    }

    static Wire.Message send(String request) throws IOException {
        return send(port, request);
    }

    static Wire.Message send(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return Wire.readResponse(s.getInputStream(), request.startsWith("HEAD "));
        }
    }

    static Wire.Message get(String target, String... headers) throws IOException {
        StringBuilder r = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: local.test\r\n");
        for (String h : headers) {
            r.append(h).append("\r\n");
        }
        return send(r.append("\r\n").toString());
    }

    static String body(String target, String... headers) throws IOException {
        return get(target, headers).bodyText();
    }

    @Test
    void requestHeaderOpsWithPlaceholders() throws IOException {
        Wire.Message res = get("/hdr/x?y=1", "X-Request-Id: rid-42", "X-Drop: gone", "X-Multi: one");
        assertThat(res.status()).isEqualTo(200);
        TestBackend.Seen seen = backend.seen.peek();
        assertThat(seen.header("X-Client")).isEqualTo("127.0.0.1");
        assertThat(seen.header("X-Host")).isEqualTo("local.test");
        assertThat(seen.header("X-Id")).isEqualTo("rid-42");
        assertThat(seen.header("X-Route")).isEqualTo("hdr");
        assertThat(seen.header("X-Method")).isEqualTo("GET");
        assertThat(seen.header("X-Path")).isEqualTo("/hdr/x");
        assertThat(seen.header("X-Drop")).isNull();
        List<String> multi = seen.headers().entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase("X-Multi")).findFirst().orElseThrow().getValue();
        assertThat(String.join(",", multi).replace(" ", "")).isEqualTo("one,two");
    }

    @Test
    void responseHeaderOps() throws IOException {
        Wire.Message res = get("/hdr/y");
        assertThat(res.header("X-Resp")).isEqualTo("r-hdr");
        assertThat(res.header("Content-Type")).isNull();
        assertThat(res.bodyText()).isEqualTo("be GET /hdr/y");
    }

    @Test
    void rewriteStripPrefixKeepsQuery() throws IOException {
        assertThat(body("/api/items?page=2&q=a%20b")).isEqualTo("be GET /items?page=2&q=a%20b");
    }

    @Test
    void rewriteAddPrefix() throws IOException {
        assertThat(body("/v2/list")).isEqualTo("be GET /internal/v2/list");
    }

    @Test
    void rewriteRegexWithGroup() throws IOException {
        assertThat(body("/users/123?full=1")).isEqualTo("be GET /profiles/123?full=1");
    }

    @Test
    void redirects() throws IOException {
        Wire.Message r = get("/r301");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.header("Location")).isEqualTo("https://example.com/r301");
        r = get("/r302");
        assertThat(r.status()).isEqualTo(302);
        assertThat(r.header("Location")).isEqualTo("/elsewhere/r302");
        r = get("/r307");
        assertThat(r.status()).isEqualTo(307);
        assertThat(r.header("Location")).isEqualTo("/t/r307");
        r = get("/r308");
        assertThat(r.status()).isEqualTo(308);
        assertThat(r.header("Location")).isEqualTo("/t/r308");
        assertThat(backend.seen).isEmpty();
    }

    @Test
    void respond() throws IOException {
        Wire.Message r = get("/teapot");
        assertThat(r.status()).isEqualTo(418);
        assertThat(r.bodyText()).isEqualTo("short and stout");
        assertThat(r.header("X-Pot")).isEqualTo("teapot");
        assertThat(r.header("Content-Length")).isEqualTo("15");
    }

    @Test
    void noRouteIs404() throws IOException {
        Wire.Message r = get("/nothing-here");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("X-Request-Id")).isNotNull();
    }

    @Test
    void hostExactAndWildcard() throws IOException {
        assertThat(send("GET /exact HTTP/1.1\r\nHost: api.example.com\r\n\r\n").bodyText()).isEqualTo("host-exact");
        assertThat(send("GET /exact HTTP/1.1\r\nHost: API.Example.COM:8080\r\n\r\n").bodyText())
                .isEqualTo("host-exact");
        assertThat(send("GET /exact HTTP/1.1\r\nHost: www.example.com\r\n\r\n").bodyText()).isEqualTo("host-wild");
        assertThat(send("GET /exact HTTP/1.1\r\nHost: a.b.example.com\r\n\r\n").bodyText()).isEqualTo("host-wild");
        // the bare domain is not a subdomain of itself
        assertThat(send("GET /exact HTTP/1.1\r\nHost: example.com\r\n\r\n").bodyText()).isEqualTo("path-exact");
    }

    @Test
    void pathExactPrefixRegex() throws IOException {
        assertThat(body("/exact")).isEqualTo("path-exact");
        assertThat(get("/exact/more").status()).isEqualTo(404);
        assertThat(body("/first/deeper")).isEqualTo("first-a");
        assertThat(body("/users/77")).isEqualTo("be GET /profiles/77");
        assertThat(get("/users/abc").status()).isEqualTo(404);
    }

    @Test
    void methods() throws IOException {
        assertThat(send("POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").bodyText()).isEqualTo("methods");
        assertThat(send("PUT /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").bodyText()).isEqualTo("methods");
        assertThat(get("/m").status()).isEqualTo(404);
    }

    @Test
    void headersAndQuery() throws IOException {
        assertThat(body("/h", "X-Flag: yes-please")).isEqualTo("header-match");
        assertThat(get("/h", "X-Flag: no").status()).isEqualTo(404);
        assertThat(get("/h").status()).isEqualTo(404);
        assertThat(body("/q?mode=fast&x=1")).isEqualTo("query-match");
        assertThat(get("/q?mode=slow").status()).isEqualTo(404);
        assertThat(get("/q").status()).isEqualTo(404);
    }

    @Test
    void sourceCidr() throws IOException {
        assertThat(body("/src-127")).isEqualTo("src-127");
        assertThat(get("/src-10").status()).isEqualTo(404);
    }

    @Test
    void firstMatchWins() throws IOException {
        assertThat(body("/first")).isEqualTo("first-a");
    }

    @Test
    void dotSegmentsAreRemovedBeforeRouting() throws IOException {
        assertThat(body("/public/../admin")).isEqualTo("admin");
        assertThat(body("/public/./x/../../admin/panel")).isEqualTo("admin");
        assertThat(body("/public/x")).isEqualTo("public");
    }

    @Test
    void defaultsAreInheritedByRoutes() throws Exception {
        try (TestProxy p = TestProxy.start("""
                listeners:
                  - name: d
                    bind: 127.0.0.1:0
                    defaults:
                      upstream: be
                      headers: { request: { set: { X-Default: "yes" } } }
                    routes:
                      - match: { path_prefix: /own }
                        headers: { request: { set: { X-Own: "1" } } }
                      - match: { path_prefix: /local }
                        respond: { status: 200, body: local }
                      - match: { path_prefix: / }
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(backend.address()))) {
            int dport = p.port("d");
            Wire.Message r = send(dport, "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(r.bodyText()).isEqualTo("be GET /plain");
            assertThat(backend.seen.poll().header("X-Default")).isEqualTo("yes");
            r = send(dport, "GET /own HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(r.bodyText()).isEqualTo("be GET /own");
            TestBackend.Seen own = backend.seen.poll();
            assertThat(own.header("X-Own")).isEqualTo("1");
            assertThat(own.header("X-Default")).as("headers replace the defaults' headers (shallow merge)").isNull();
            r = send(dport, "GET /local HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(r.bodyText()).isEqualTo("local");
            assertThat(backend.seen).isEmpty();
        }
    }
}
