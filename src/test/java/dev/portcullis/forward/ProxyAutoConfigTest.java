package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.RawHttp;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PAC file of a forward listener: what the script says (checked by its structure: balanced brackets, closed
 * string literals, one FindProxyForURL), where the proxy's name comes from, and that no Host header can put code
 * into it. Black-box over real sockets, and the script maker on its own.
 */
class ProxyAutoConfigTest {

    private static String yaml(String forward) {
        return """
                listeners:
                  - name: fwd
                    bind: 127.0.0.1:0
                    mode: forward
                    forward:
                %s
                """.formatted(forward.indent(6).stripTrailing());
    }

    private static String raw(TestProxy p, String head) throws IOException {
        return RawHttp.exchange(p.port("fwd"), head, 1000);
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    // ---- served by the listener ----

    @Test
    void thePacFileNamesTheProxyAsTheClientReachedIt() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            String r = raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: proxy.corp.example:3128\r\nConnection: close\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 200");
            assertThat(r.toLowerCase()).contains("content-type: application/x-ns-proxy-autoconfig\r\n");
            String script = body(r);
            assertWellFormedPac(script);
            assertThat(script).contains("return \"PROXY proxy.corp.example:3128\";");
            // the well-known WPAD name too; a Host without a port means port 80, as for any http URL
            String wpad = raw(p, "GET /wpad.dat?x=1 HTTP/1.1\r\nHost: WPAD.Corp.Example\r\nConnection: close\r\n\r\n");
            assertThat(wpad).startsWith("HTTP/1.1 200");
            assertThat(body(wpad)).contains("return \"PROXY wpad.corp.example:80\";");
            // an address, IPv6 included, in its usual form
            assertThat(body(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: [0:0::1]:3128\r\nConnection: close\r\n\r\n")))
                    .contains("return \"PROXY [::1]:3128\";");
            // HEAD: the head only
            String head = raw(p, "HEAD /proxy.pac HTTP/1.1\r\nHost: proxy:3128\r\nConnection: close\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n");
        }
    }

    @Test
    void withoutAHostThePacFileNamesTheAddressTheClientConnectedTo() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            String r = raw(p, "GET /proxy.pac HTTP/1.0\r\n\r\n");
            assertThat(r).startsWith("HTTP/1.1 200");
            assertThat(body(r)).contains("return \"PROXY 127.0.0.1:" + p.port("fwd") + "\";");
        }
    }

    @Test
    void hostHeadersThatAreNotAHostAreRefusedNeverWrittenIntoTheScript() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            for (String host : List.of("evil\"; alert(1); \"", "a\\b", "x'y", "proxy:3128\"", "pro xy",
                    "proxy:99999", "[::1", "user@proxy", "a</script>", "%70roxy", "\u00e9vil\u2028x")) {
                String r = RawHttp.exchange(p.port("fwd"), "GET /proxy.pac HTTP/1.1\r\nHost: " + host
                        + "\r\nConnection: close\r\n\r\n", 1000);
                assertThat(r).as(host).startsWith("HTTP/1.1 400");
                assertThat(r).as(host).doesNotContain("FindProxyForURL");
            }
            // a header line broken in two never reaches the PAC maker either
            assertThat(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: a\r\n b\";x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 400");
            // and the listener still serves
            assertThat(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: ok.example\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void pacFetchesKeepTheConnectionAndOtherOriginFormRequestsAreStillRefused() throws Exception {
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"));
             Socket s = new Socket("127.0.0.1", p.port("fwd"))) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("GET /proxy.pac HTTP/1.1\r\nHost: proxy:3128\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Wire.Message pac = Wire.readResponse(in, false);
            assertThat(pac.status()).isEqualTo(200);
            assertThat(pac.header("Content-Type")).isEqualTo("application/x-ns-proxy-autoconfig");
            // the same keep-alive connection: another PAC fetch, then paths that are not the PAC file
            out.write("GET /wpad.dat HTTP/1.1\r\nHost: proxy:3128\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(Wire.readResponse(in, false).status()).isEqualTo(200);
        }
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false"))) {
            for (String line : List.of("GET /other.pac", "GET /proxy.pac/x", "POST /proxy.pac", "GET /PROXY.PAC",
                    "OPTIONS /proxy.pac")) {
                assertThat(raw(p, line + " HTTP/1.1\r\nHost: proxy:3128\r\nContent-Length: 0\r\n\r\n"))
                        .as(line).startsWith("HTTP/1.1 400").contains("/proxy.pac");
            }
        }
    }

    @Test
    void thePacFileNeedsNoProxyCredentialsButOnlyClientsGetIt() throws Exception {
        Path users = Files.createTempFile("proxy-users", ".htpasswd");
        Files.writeString(users, "alice:" + org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2y",
                "wonderland".getBytes(StandardCharsets.UTF_8), new byte[16], 4) + "\n");
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nauth: { basic: { htpasswd: "
                + users + " } }"))) {
            assertThat(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            // a proxied request still needs them
            assertThat(raw(p, "GET http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 407");
        } finally {
            Files.deleteIfExists(users);
        }
        try (TestProxy p = TestProxy.start(yaml("deny_private_destinations: false\nclients: [10.0.0.0/8]"))) {
            assertThat(raw(p, "GET /proxy.pac HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("forward.clients");
        }
    }

    // ---- the script maker ----

    @Test
    void theScriptIsWellFormedAndSendsOnlyLocalNamesDirect() {
        String script = ProxyAutoConfig.script("proxy.corp.example:3128");
        assertWellFormedPac(script);
        assertThat(script).contains("isPlainHostName(host)").contains("\"localhost\"").contains("return \"DIRECT\";")
                .contains("return \"PROXY proxy.corp.example:3128\";");
        // no DIRECT fallback after the proxy: a filtering proxy is not walked around when it is down
        assertThat(script).doesNotContain("PROXY proxy.corp.example:3128; DIRECT");
    }

    @Test
    void javaScriptStringsEscapeEverythingThatCouldEndThem() {
        assertThat(ProxyAutoConfig.jsString("plain host:1")).isEqualTo("\"plain host:1\"");
        assertThat(ProxyAutoConfig.jsString("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(ProxyAutoConfig.jsString("a\nb\r\u2028\u2029'</script>"))
                .isEqualTo("\"a\\u000ab\\u000d\\u2028\\u2029\\u0027\\u003c/script\\u003e\"");
        assertThat(ProxyAutoConfig.jsString("\u00e9\u0000\u007f")).isEqualTo("\"\\u00e9\\u0000\\u007f\"");
        // whatever goes in, the script stays one well-formed function
        assertWellFormedPac(ProxyAutoConfig.script("x\"; } function FindProxyForURL() { return \"DIRECT\"; //"));
    }

    @Test
    void theProxyIsNamedByAValidHostOrNotAtAll() {
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 3128);
        assertThat(ProxyAutoConfig.proxyAuthority("Proxy.Example.:8080", local)).isEqualTo("proxy.example:8080");
        assertThat(ProxyAutoConfig.proxyAuthority("0x7f.1:3128", local)).isEqualTo("127.0.0.1:3128");
        assertThat(ProxyAutoConfig.proxyAuthority("b\u00fccher.example", local)).isEqualTo("xn--bcher-kva.example:80");
        assertThat(ProxyAutoConfig.proxyAuthority(null, local)).isEqualTo("127.0.0.1:3128");
        assertThat(ProxyAutoConfig.proxyAuthority("", new InetSocketAddress("::1", 8080))).isEqualTo("[::1]:8080");
        for (String bad : List.of("a\"b", "a b", "a:b:c", "proxy:0", "256.1.1.1", "[fe80::1%eth0]", "a\nb", "*")) {
            assertThat(ProxyAutoConfig.proxyAuthority(bad, local)).as(bad).isNull();
        }
        assertThat(ProxyAutoConfig.isRequest("GET", "/proxy.pac")).isTrue();
        assertThat(ProxyAutoConfig.isRequest("HEAD", "/wpad.dat?v=2")).isTrue();
        assertThat(ProxyAutoConfig.isRequest("POST", "/proxy.pac")).isFalse();
        assertThat(ProxyAutoConfig.isRequest("GET", "http://x/proxy.pac")).isFalse();
    }

    /** Not needed for the checks above; where node is installed, the script also runs as a PAC client would. */
    @Test
    void aJavaScriptEngineRunsTheScriptWhereOneIsInstalled() throws Exception {
        Path node = java.util.stream.Stream.of("/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs")
                .map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(node != null, "no node executable");
        String js = ProxyAutoConfig.script("proxy.example:3128") + """
                function isPlainHostName(h) { return h.indexOf(".") < 0; }
                function dnsDomainIs(h, d) { return h.length >= d.length && h.substring(h.length - d.length) === d; }
                for (const h of ["intranet", "localhost", "a.localhost", "127.0.0.1", "::1", "example.com",
                        "10.1.2.3"]) {
                    console.log(h + " " + FindProxyForURL("http://" + h + "/", h));
                }
                """;
        Process p = new ProcessBuilder(node.toString(), "-e", js).redirectErrorStream(true).start();
        try {
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("""
                    intranet DIRECT
                    localhost DIRECT
                    a.localhost DIRECT
                    127.0.0.1 DIRECT
                    ::1 DIRECT
                    example.com PROXY proxy.example:3128
                    10.1.2.3 PROXY proxy.example:3128
                    """);
            assertThat(p.exitValue()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * The script's structure, as a JavaScript parser would first see it: every string and regular expression
     * literal closed on its line, brackets balanced and properly nested outside them, exactly one
     * {@code function FindProxyForURL(url, host)} at the top level, and every return a string literal.
     */
    static void assertWellFormedPac(String script) {
        assertThat(script).doesNotContain("\r").doesNotContain("\u2028").doesNotContain("\u2029");
        assertThat(script.chars()).allMatch(c -> c == '\n' || (c >= 0x20 && c < 0x7f));
        Deque<Character> open = new ArrayDeque<>();
        StringBuilder code = new StringBuilder(); // the script with literals blanked and comments dropped
        for (String line : script.split("\n", -1)) {
            int i = 0;
            char last = '(';
            while (i < line.length()) {
                char c = line.charAt(i);
                if (c == '/' && i + 1 < line.length() && line.charAt(i + 1) == '/') {
                    break; // a comment to the end of the line
                }
                if (c == '"' || c == '\'' || (c == '/' && "(,=!&|".indexOf(last) >= 0)) {
                    int j = i + 1;
                    while (j < line.length() && line.charAt(j) != c) {
                        j += line.charAt(j) == '\\' ? 2 : 1;
                    }
                    assertThat(j).as("literal closed on its line: " + line).isLessThan(line.length());
                    code.append(c == '/' ? "/r/" : "\"s\"");
                    i = j + 1;
                    last = 's';
                    continue;
                }
                if ("({[".indexOf(c) >= 0) {
                    open.push(c);
                } else if (")}]".indexOf(c) >= 0) {
                    assertThat(open).as("closing " + c + " in: " + line).isNotEmpty();
                    assertThat("({[".indexOf(open.pop())).as("nesting in: " + line).isEqualTo(")}]".indexOf(c));
                }
                if (c != ' ') {
                    last = c;
                }
                code.append(c);
                i++;
            }
            code.append('\n');
        }
        assertThat(open).as("unclosed brackets").isEmpty();
        String c = code.toString();
        assertThat(c.split("function ", -1)).hasSize(2);
        assertThat(c).contains("function FindProxyForURL(url, host) {");
        assertThat(c.trim()).startsWith("function FindProxyForURL(url, host) {").endsWith("}");
        String[] returns = c.split("return ", -1);
        assertThat(returns).hasSizeGreaterThan(1);
        for (int k = 1; k < returns.length; k++) {
            assertThat(returns[k]).startsWith("\"s\";");
        }
    }
}
