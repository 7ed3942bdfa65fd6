package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.testing.RawExchange;
import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input from clients: every request here is answered by the proxy with the exact status, never forwarded,
 * and the proxy keeps serving normal requests on new connections.
 */
class MalformedRequestTest {
    private static final int TIMEOUT = 3000;
    private static TestBackend backend;
    private static TestProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start("be");
        proxy = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    limits:
                      max_request_line: 1KiB
                      max_header_size: 2KiB
                      max_body_size: 1KiB
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s] }
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        backend.close();
    }

    @AfterEach
    void clear() {
        backend.seen.clear();
    }

    private static int port() {
        return proxy.port("web");
    }

    /** Nothing but the follow-up request reached the backend, and the proxy still serves on a new connection. */
    private static void assertNothingForwardedAndStillServing() throws Exception {
        RawExchange.Result ok = RawExchange.send(port(),
                "GET /ok HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", TIMEOUT);
        assertThat(ok.status()).as(ok.text()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("be GET /ok");
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/ok");
    }

    static Arguments bad(String name, String request) {
        return Arguments.of(name, request);
    }

    static java.util.stream.Stream<Arguments> malformed() {
        String big = "x".repeat(10);
        return java.util.stream.Stream.of(
                bad("CL and TE", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: 5\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                bad("TE and CL", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n"
                        + "Content-Length: 5\r\n\r\n0\r\n\r\n"),
                bad("two differing CL", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: 5\r\n"
                        + "Content-Length: 6\r\n\r\nhello!"),
                bad("CL list", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: 5, 6\r\n\r\nhello!"),
                bad("TE gzip", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: gzip\r\n\r\n" + big),
                bad("TE chunked, gzip", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
                        + "0\r\n\r\n"),
                bad("TE identity", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: identity\r\n\r\n"),
                bad("bad chunk size", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "zz\r\nhello\r\n0\r\n\r\n"),
                bad("bare LF", "GET /bad HTTP/1.1\nHost: good\n\n"),
                bad("bare LF after headers", "GET /bad HTTP/1.1\r\nHost: good\r\nX-A: b\n\r\n"),
                bad("bare CR", "GET /bad HTTP/1.1\r\nHost: good\rX-A: b\r\n\r\n"),
                bad("obs-fold space", "GET /bad HTTP/1.1\r\nHost: good\r\nX-A: a\r\n b\r\n\r\n"),
                bad("obs-fold tab", "GET /bad HTTP/1.1\r\nHost: good\r\nX-A: a\r\n\tb\r\n\r\n"),
                bad("space in header name", "GET /bad HTTP/1.1\r\nHost: good\r\nBad Header: x\r\n\r\n"),
                bad("control char in header name", "GET /bad HTTP/1.1\r\nHost: good\r\nX\u0001: y\r\n\r\n"),
                bad("control char in header value", "GET /bad HTTP/1.1\r\nHost: good\r\nX-A: a\u0001b\r\n\r\n"),
                bad("space before colon", "GET /bad HTTP/1.1\r\nHost: good\r\nX-A : b\r\n\r\n"),
                bad("no Host in HTTP/1.1", "GET /bad HTTP/1.1\r\nX-A: b\r\n\r\n"),
                bad("two Host headers", "GET /bad HTTP/1.1\r\nHost: good\r\nHost: evil\r\n\r\n"),
                bad("absolute-form foreign host", "GET http://evil.example/bad HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("absolute-form with userinfo", "GET http://u@good/bad HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("non-origin target", "GET foo HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("asterisk with GET", "GET * HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("TE in HTTP/1.0", "POST /bad HTTP/1.0\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "0\r\n\r\n"),
                bad("TE chunked twice", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                bad("chunk size overflow", "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n"),
                bad("negative Content-Length", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: -1\r\n\r\n"),
                bad("non-numeric Content-Length", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: 1x\r\n\r\n"
                        + "12"),
                bad("CL with plus sign", "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: +5\r\n\r\nhello"),
                bad("chunk size with leading space", "POST /bad HTTP/1.1\r\nHost: good\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n"),
                bad("chunk data longer than its size", "POST /bad HTTP/1.1\r\nHost: good\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"),
                bad("fragment in target", "GET /bad#frag HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("garbage HTTP version", "GET /bad HTTP/x.1\r\nHost: good\r\n\r\n"),
                bad("space in target", "GET /a b HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("space in Host", "GET /bad HTTP/1.1\r\nHost: go od\r\n\r\n"),
                bad("slash in Host", "GET /bad HTTP/1.1\r\nHost: good/evil\r\n\r\n"),
                bad("userinfo in Host", "GET /bad HTTP/1.1\r\nHost: user@good\r\n\r\n"),
                bad("bad port in Host", "GET /bad HTTP/1.1\r\nHost: good:80x\r\n\r\n"),
                bad("bad IPv6 Host", "GET /bad HTTP/1.1\r\nHost: [::1\r\n\r\n"),
                bad("DEL in target", "GET /bad\u007f HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("control char in target", "GET /bad\u0001x HTTP/1.1\r\nHost: good\r\n\r\n"),
                bad("header without colon", "GET /bad HTTP/1.1\r\nHost: good\r\nNoColonHere\r\n\r\n"),
                bad("NUL in target", "GET /bad\u0000x HTTP/1.1\r\nHost: good\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedIs400AndClosed(String name, String request) throws Exception {
        RawExchange.Result r = RawExchange.send(port(), request, TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.closed()).as("connection closed after a 400").isTrue();
        assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
        assertThat(r.header("X-Request-Id")).isNotBlank();
        assertThat(r.body()).contains(r.header("X-Request-Id"));
        assertNothingForwardedAndStillServing();
    }

    @Test
    void malformedRequestPipelinedAfterAGoodOneIsRefusedAfterTheGoodOneIsServed() throws Exception {
        RawExchange.Result r = RawExchange.send(port(), "GET /first HTTP/1.1\r\nHost: good\r\n\r\n"
                + "GET /second HTTP/1.1\r\nHost: good\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).contains("be GET /first").contains("HTTP/1.1 400 ");
        assertThat(r.closed()).isTrue();
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/first");
    }

    @Test
    void expectContinueOverTheBodyLimitIs413WithoutContinue() throws Exception {
        RawExchange.Result r = RawExchange.send(port(), "POST /bad HTTP/1.1\r\nHost: good\r\n"
                + "Content-Length: 4096\r\nExpect: 100-continue\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(413);
        assertThat(r.text()).doesNotContain("100 Continue");
        assertNothingForwardedAndStillServing();
    }

    @Test
    void dotSegmentsAreResolvedBeforeForwarding() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET /a/../b/./c HTTP/1.1\r\nHost: good\r\nConnection: close\r\n\r\n", TIMEOUT);
        assertThat(r.status()).isEqualTo(200);
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/b/c");
    }

    @Test
    void http2VersionOnTheHttp1ParserIs505() throws Exception {
        RawExchange.Result r = RawExchange.send(port(), "GET /bad HTTP/2.0\r\nHost: good\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(505);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void higherHttp1MinorVersionIsServedAsHttp11() throws Exception {
        // RFC 9110 §2.5: a higher minor version of a major version we implement is processed as HTTP/1.1
        RawExchange.Result r = RawExchange.send(port(),
                "GET /minor HTTP/1.7\r\nHost: good\r\nConnection: close\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).startsWith("HTTP/1.1 ");
    }

    @Test
    void validHostForms() throws Exception {
        for (String host : new String[] {"good", "GOOD.example.", "good:8080", "127.0.0.1:1", "[::1]:80", "[::1]",
                "a_b-c.example", ""}) {
            RawExchange.Result r = RawExchange.send(port(),
                    "GET /h HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", TIMEOUT);
            assertThat(r.status()).as(host + ": " + r.text()).isEqualTo(200);
        }
        assertThat(backend.seen).hasSize(8);
    }

    @Test
    void absoluteFormMatchingHostIsProxied() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET http://Good:80/abs?q=1 HTTP/1.1\r\nHost: good:80\r\nConnection: close\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("be GET /abs?q=1");
        assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/abs?q=1");
    }

    @Test
    void requestLineOverLimitIs414() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: good\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(414);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void headersOverLimitAre431() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET /bad HTTP/1.1\r\nHost: good\r\nX-Big: " + "b".repeat(3000) + "\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(431);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void manyHeadersOverLimitAre431() throws Exception {
        StringBuilder sb = new StringBuilder("GET /bad HTTP/1.1\r\nHost: good\r\n");
        for (int i = 0; i < 100; i++) {
            sb.append("X-H").append(i).append(": ").append("v".repeat(30)).append("\r\n");
        }
        RawExchange.Result r = RawExchange.send(port(), sb.append("\r\n").toString(), TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(431);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void contentLengthOverLimitIs413BeforeAnythingGoesUpstream() throws Exception {
        // Only the head is sent: the proxy must refuse on Content-Length alone, without waiting for the body.
        RawExchange.Result r = RawExchange.send(port(),
                "POST /bad HTTP/1.1\r\nHost: good\r\nContent-Length: 5000\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(413);
        assertThat(r.closed()).isTrue();
        assertThat(r.millis()).isLessThan(TIMEOUT);
        assertNothingForwardedAndStillServing();
    }

    @Test
    void chunkedBodyOverLimitIs413() throws Exception {
        String chunk = Integer.toHexString(800) + "\r\n" + "c".repeat(800) + "\r\n";
        RawExchange.Result r = RawExchange.send(port(),
                "POST /bad HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk
                        + "0\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(413);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void bodyAtTheLimitIsForwarded() throws Exception {
        String body = "d".repeat(1024);
        RawExchange.Result r = RawExchange.send(port(),
                "POST /fits HTTP/1.1\r\nHost: good\r\nConnection: close\r\nContent-Length: 1024\r\n\r\n" + body,
                TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(backend.seen).hasSize(1);
        assertThat(new String(backend.seen.peek().body())).isEqualTo(body);
    }

    @Test
    void connectIs405() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "CONNECT good:443 HTTP/1.1\r\nHost: good:443\r\nConnection: close\r\n\r\n", TIMEOUT);
        assertThat(r.status()).as(r.text()).isEqualTo(405);
        assertThat(r.closed()).isTrue();
        assertNothingForwardedAndStillServing();
    }

    @Test
    void errorBodyIsTextByDefaultWithTheRequestId() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET foo HTTP/1.1\r\nHost: good\r\nX-Request-Id: client-id-42\r\n\r\n", TIMEOUT);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("text/plain");
        assertThat(r.header("X-Request-Id")).isEqualTo("client-id-42");
        assertThat(r.body()).startsWith("400 Bad Request: ").contains("client-id-42").contains("origin-form");
        assertThat(Integer.parseInt(r.header("Content-Length"))).isEqualTo(r.body().length());
    }

    @Test
    void errorBodyIsJsonWhenAccepted() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET foo HTTP/1.1\r\nHost: good\r\nAccept: application/json\r\n\r\n", TIMEOUT);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        String id = r.header("X-Request-Id");
        assertThat(id).matches("[0-9a-f]{32}");
        Map<String, Object> json = parseFlatJson(r.body());
        assertThat(json).containsEntry("status", 400).containsEntry("request_id", id);
        assertThat((String) json.get("message")).contains("origin-form");
    }

    @Test
    void malformedClientRequestIdIsReplaced() throws Exception {
        RawExchange.Result r = RawExchange.send(port(),
                "GET foo HTTP/1.1\r\nHost: good\r\nX-Request-Id: bad id\"<>\r\n\r\n", TIMEOUT);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("X-Request-Id")).matches("[0-9a-f]{32}");
        assertThat(r.body()).doesNotContain("bad id");
    }

    static Map<String, Object> parseFlatJson(String text) throws Exception {
        Map<String, Object> out = new HashMap<>();
        try (JsonParser p = new JsonFactory().createParser(text)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                out.put(name, v == JsonToken.VALUE_NUMBER_INT ? (Object) p.getIntValue() : p.getText());
            }
            assertThat(t).isEqualTo(JsonToken.END_OBJECT);
        }
        return out;
    }
}
