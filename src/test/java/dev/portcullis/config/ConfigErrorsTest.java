package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigErrorsTest {

    /** A valid listener to append where a test is about something else. */
    static final String LISTENER = """
            listeners:
              - name: web
                bind: 127.0.0.1:8080
                routes: [ { upstream: backend } ]
            upstreams:
              backend: { endpoints: [127.0.0.1:9001] }
            """;

    static List<String> errors(String yaml) {
        return errors(yaml, Map.of());
    }

    static List<String> errors(String yaml, Map<String, String> env) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "t.yaml", env));
        assertThat(e).as("expected the config to be refused").isNotNull();
        assertThat(e.getMessage()).isEqualTo(String.join("\n", e.errors().stream().map(ConfigError::toString).toList()));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void yamlSyntaxErrorHasItsLine() {
        assertThat(errors("""
                workers: 2
                admin:
                  bind: [127.0.0.1:9901
                """)).singleElement().asString().startsWith("t.yaml:4: invalid YAML: ");
        assertThat(errors("a: b: c\n")).containsExactly("t.yaml:1: invalid YAML: mapping values are not allowed here");
    }

    @Test
    void emptyFileAndWrongRoot() {
        assertThat(errors("")).containsExactly("t.yaml:1: the config is empty; it needs at least 'listeners'");
        assertThat(errors("# only a comment\n")).containsExactly("t.yaml:1: the config is empty; it needs at least 'listeners'");
        assertThat(errors("- a\n- b\n")).containsExactly("t.yaml:1: expected a mapping, found a sequence");
    }

    @Test
    void duplicateKeysAreErrors() {
        assertThat(errors("""
                workers: 2
                workers: 3
                """ + LISTENER)).containsExactly("t.yaml:2: workers: duplicate key 'workers' (first at line 1)");
        assertThat(errors("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    bind: 127.0.0.1:8081
                    routes: [ { respond: { status: 200 } } ]
                """)).containsExactly("t.yaml:4: listeners[0].bind: duplicate key 'bind' (first at line 3)");
    }

    @Test
    void unknownKeyWithSuggestion() {
        assertThat(errors("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes:
                      - match: { pathprefix: / }
                        upstream: backend
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """)).containsExactly("t.yaml:5: listeners[0].routes[0].match.pathprefix: unknown key 'pathprefix'; did you mean 'path_prefix'?");
        assertThat(errors("wrkers: 2\n" + LISTENER)).containsExactly("t.yaml:1: wrkers: unknown key 'wrkers'; did you mean 'workers'?");
        assertThat(errors("zzzzzzzzzz: 2\n" + LISTENER)).containsExactly("t.yaml:1: zzzzzzzzzz: unknown key 'zzzzzzzzzz'; "
                + "expected one of: workers, transport, shutdown_timeout, admin, access_log, listeners, upstreams, caches, redis, consumers");
    }

    @Test
    void notYetSupportedKeysAndValues() {
        assertThat(errors("""
                redis: { url: "redis://127.0.0.1:6379" }
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    protocol: https
                    tls: { self_signed: true }
                    defaults: { cache: nozone }
                    routes:
                      - rate_limit: { rate: 100/s, store: redis }
                        upstream: backend
                upstreams:
                  backend:
                    endpoints: [127.0.0.1:9001]
                    proxy_protocol: v2
                """)).containsExactly(
                "t.yaml:7: listeners[0].defaults.cache: unknown cache zone 'nozone'; no cache zones are defined (top-level 'caches')",
                "t.yaml:14: upstreams.backend.proxy_protocol: 'proxy_protocol' is not supported in this version yet");
    }

    @Test
    void cacheZonesRefuseTheTiersNotBuiltYet() {
        assertThat(errors("""
                caches:
                  default: { memory: 1MiB, shared: redis }
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes: [ { upstream: backend, cache: default } ]
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """)).containsExactly(
                "t.yaml:2: caches.default.shared: 'shared: redis' needs the top-level 'redis' section, such as "
                        + "redis: { url: redis://127.0.0.1:6379 }");
    }

    @Test
    void wrongTypes() {
        assertThat(errors("""
                admin: [127.0.0.1:9901]
                access_log: stdout
                """ + LISTENER)).containsExactly(
                "t.yaml:1: admin: expected a mapping, found a sequence",
                "t.yaml:2: access_log: expected a mapping, found a scalar 'stdout'");
        assertThat(errors("""
                listeners: { name: web }
                """)).containsExactly("t.yaml:1: listeners: expected a sequence, found a mapping");
        assertThat(errors("""
                listeners:
                  - name: web
                    bind: { host: 127.0.0.1 }
                    routes:
                      - match: { methods: { GET: 1 } }
                        redirect: /elsewhere
                """)).containsExactly(
                "t.yaml:3: listeners[0].bind: expected an address host:port, found a mapping",
                "t.yaml:5: listeners[0].routes[0].match.methods: expected a sequence or a string, found a mapping",
                "t.yaml:6: listeners[0].routes[0].redirect: expected a mapping, found a scalar '/elsewhere'");
    }

    @Test
    void badValuesNameTheValueAndWhatIsAccepted() {
        assertThat(errors("""
                workers: many
                transport: kqueue
                shutdown_timeout: 30
                admin: { bind: "127.0.0.1" }
                access_log: { format: jsn }
                listeners:
                  - name: "web server"
                    bind: 127.0.0.1:70000
                    protocol: htp
                    limits: { max_connections: 0, max_header_size: 32XB, idle_timeout: 0 }
                    routes:
                      - match:
                          host: "a.*.com"
                          path: relative
                          methods: ["GE T"]
                          headers: { "Bad Header": x }
                          source: [example.com, 10.0.0.0/40]
                        headers: { request: { set: { X-Who: "{client.name}" } } }
                        rewrite: { regex: { pattern: "([a-z" } }
                        respond: { status: 999 }
                      - match: { path_regex: "(" }
                        redirect: { to: "/x", status: 200 }
                upstreams:
                  "bad/name": { endpoints: [127.0.0.1:0, { address: 127.0.0.1:9001, weight: 5000 }] }
                """)).containsExactly(
                "t.yaml:1: workers: invalid workers 'many'; expected auto or a number 1..1024",
                "t.yaml:2: transport: invalid transport 'kqueue'; expected auto, epoll, io_uring or nio",
                "t.yaml:3: shutdown_timeout: invalid duration '30' (a number needs a unit); expected a whole number and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d",
                "t.yaml:4: admin.bind: missing port in '127.0.0.1'; expected host:port such as 127.0.0.1:8080",
                "t.yaml:5: access_log.format: unknown format 'jsn'; did you mean 'json'? (expected json, combined or a template such as '{client.ip} \"{request.line}\" {response.status}')",
                "t.yaml:7: listeners[0].name: invalid name 'web server'; use letters, digits, '_', '.' and '-'",
                "t.yaml:8: listeners[0].bind: invalid port '70000' in '127.0.0.1:70000'; expected 0..65535 (0: any free port)",
                "t.yaml:9: listeners[0].protocol: unknown protocol 'htp'; expected http, https or socks5",
                "t.yaml:10: listeners[0].limits.max_connections: '0' is out of range; expected 1..2147483647",
                "t.yaml:10: listeners[0].limits.idle_timeout: duration '0' must be above zero",
                "t.yaml:10: listeners[0].limits.max_header_size: invalid size '32XB'; expected bytes or a number with a unit: KiB, MiB, GiB (also k, KB, M, MB, G, GB, all powers of 1024), such as 512, 64KiB, 16MiB, 1GiB",
                "t.yaml:13: listeners[0].routes[0].match.host: invalid host 'a.*.com'; a wildcard is only accepted as a leading '*.', such as '*.example.com'",
                "t.yaml:14: listeners[0].routes[0].match.path: invalid path 'relative'; a path must start with '/'",
                "t.yaml:15: listeners[0].routes[0].match.methods[0]: invalid method 'GE T'; expected a name such as GET or POST",
                "t.yaml:16: listeners[0].routes[0].match.headers.Bad Header: invalid header name 'Bad Header'; expected an RFC 9110 token",
                "t.yaml:17: listeners[0].routes[0].match.source[0]: invalid address 'example.com'; expected an IP literal or a CIDR such as 10.0.0.0/8 or fd00::/8 (host names are not accepted)",
                "t.yaml:17: listeners[0].routes[0].match.source[1]: invalid prefix length '40' in '10.0.0.0/40'; expected 0..32",
                "t.yaml:18: listeners[0].routes[0].headers.request.set.X-Who: unknown placeholder {client.name}; known: {client.ip}, {client.port}, {request.host}, {request.hostname}, {request.method}, {request.uri}, {request.path}, {request.scheme}, {request.id}, {request.line}, {route.name}, {upstream.name}, {upstream.address}, {response.status}, {duration.ms}, {consumer.name}, {tls.sni}, {tls.client.subject}, "
                        + "{tls.client.fingerprint}, {tls.version}, {tls.cipher}",
                "t.yaml:19: listeners[0].routes[0].rewrite.regex.pattern: invalid regular expression '([a-z': Unclosed character class near index 4",
                "t.yaml:19: listeners[0].routes[0].rewrite.regex: missing required key 'replace'",
                "t.yaml:20: listeners[0].routes[0].respond.status: '999' is out of range; expected 100..599",
                "t.yaml:21: listeners[0].routes[1].match.path_regex: invalid regular expression '(': Unclosed group near index 1",
                "t.yaml:22: listeners[0].routes[1].redirect.status: invalid redirect status '200'; expected 301, 302, 303, 307 or 308",
                "t.yaml:24: upstreams.bad/name: invalid upstream name 'bad/name'; use letters, digits, '_', '.' and '-'",
                "t.yaml:24: upstreams.bad/name.endpoints[0]: invalid port '0' in '127.0.0.1:0'; expected 1..65535",
                "t.yaml:24: upstreams.bad/name.endpoints[1].weight: '5000' is out of range; expected 1..1000");
    }

    @Test
    void missingRequiredKeysAndActions() {
        assertThat(errors("workers: 2\n")).containsExactly("t.yaml:1: missing required key 'listeners'");
        assertThat(errors("listeners: []\n")).containsExactly("t.yaml:1: listeners: at least one listener is needed");
        assertThat(errors("""
                listeners:
                  - protocol: http
                  - name: b
                    bind: 127.0.0.1:8081
                    routes:
                      - match: { path: /a, path_prefix: /b }
                      - upstream: backend
                        respond: { status: 200 }
                      - redirect: { status: 301 }
                      - respond: { body: hi }
                upstreams:
                  backend: { endpoints: [] }
                  empty:
                """)).containsExactly(
                "t.yaml:2: listeners[0]: missing required key 'name'",
                "t.yaml:2: listeners[0]: missing required key 'bind'",
                "t.yaml:2: listeners[0]: missing required key 'routes'",
                "t.yaml:6: listeners[1].routes[0].match.path_prefix: only one of path, path_prefix, path_regex may be set; found 'path' and 'path_prefix'",
                "t.yaml:6: listeners[1].routes[0]: a route needs one of 'upstream', 'split', 'redirect' or 'respond'",
                "t.yaml:8: listeners[1].routes[1].respond: a route takes exactly one of 'upstream', 'split', 'redirect', 'respond'; found 'upstream' and 'respond'",
                "t.yaml:9: listeners[1].routes[2].redirect: missing required key 'to'",
                "t.yaml:10: listeners[1].routes[3].respond: missing required key 'status'",
                "t.yaml:12: upstreams.backend.endpoints: an upstream needs at least one endpoint (or 'discovery')",
                "t.yaml:13: upstreams.empty: missing required key 'endpoints'");
    }

    @Test
    void semanticErrors() {
        assertThat(errors("""
                admin: { bind: "127.0.0.1:8081" }
                listeners:
                  - name: web
                    bind: 0.0.0.0:8080
                    routes:
                      - { name: a, upstream: bakend }
                      - { name: a, upstream: backend }
                      - { name: web-3, upstream: backend }
                      - { upstream: backend }
                  - name: web
                    bind: 127.0.0.1:8080
                    routes: [ { name: a, upstream: nothing-like-it } ]
                  - name: third
                    bind: 127.0.0.1:8081
                    routes: [ { upstream: backend } ]
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """)).containsExactly(
                "t.yaml:1: admin.bind: admin bind 127.0.0.1:8081 is also the bind of listener 'third' (line 14)",
                "t.yaml:6: listeners[0].routes[0].upstream: unknown upstream 'bakend'; did you mean 'backend'?",
                "t.yaml:7: listeners[0].routes[1].name: duplicate route name 'a' in this listener (first at line 6)",
                "t.yaml:9: listeners[0].routes[3]: duplicate route name 'web-3' in this listener (first at line 8)",
                "t.yaml:10: listeners[1].name: duplicate listener name 'web' (first at line 3)",
                "t.yaml:11: listeners[1].bind: address 127.0.0.1:8080 is already used by listener 'web' (0.0.0.0:8080, line 4)",
                "t.yaml:12: listeners[1].routes[0].upstream: unknown upstream 'nothing-like-it'; defined: backend");
    }

    @Test
    void listenerOnTheDefaultAdminAddress() {
        assertThat(errors("""
                listeners:
                  - { name: web, bind: "127.0.0.1:9901", routes: [ { respond: { status: 200 } } ] }
                """)).containsExactly("t.yaml:2: listeners[0].bind: address 127.0.0.1:9901 is also the admin API's default bind "
                + "127.0.0.1:9901; set admin.bind to another address");
    }

    @Test
    void unknownUpstreamWhenNoneAreDefined() {
        assertThat(errors("""
                listeners:
                  - { name: web, bind: "127.0.0.1:0", routes: [ { upstream: backend } ] }
                """)).containsExactly("t.yaml:2: listeners[0].routes[0].upstream: unknown upstream 'backend'; no upstreams are defined");
    }

    @Test
    void defaultsErrorsAreReportedOnceAtTheDefaults() {
        assertThat(errors("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    defaults:
                      name: x
                      timeout: soon
                      upstream: backend
                    routes:
                      - match: { path: /a }
                      - match: { path: /b }
                      - respond: { status: 200 }
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """)).containsExactly(
                "t.yaml:5: listeners[0].defaults.name: 'name' cannot be given in defaults: each route has its own",
                "t.yaml:6: listeners[0].defaults.timeout: invalid duration 'soon'; expected a whole number and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d");
    }

    @Test
    void manyErrorsAtOnceInLineOrder() {
        List<String> errors = errors("""
                workers: 0
                listeners:
                  - name: web
                    bind: 127.0.0.1:8080
                    routes:
                      - upstream: missing
                        timout: 5s
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001], connect_timeout: fast }
                """);
        assertThat(errors).containsExactly(
                "t.yaml:1: workers: invalid workers '0'; expected auto or a number 1..1024",
                "t.yaml:6: listeners[0].routes[0].upstream: unknown upstream 'missing'; defined: backend",
                "t.yaml:7: listeners[0].routes[0].timout: unknown key 'timout'; did you mean 'timeout'?",
                "t.yaml:9: upstreams.backend.connect_timeout: invalid duration 'fast'; expected a whole number and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d");
    }

    @Test
    void errorsCarryFileLinePathAndMessage() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse("workers: x\n" + LISTENER, "conf/p.yaml", Map.of()));
        assertThat(e.errors()).containsExactly(
                new ConfigError("conf/p.yaml", 1, "workers", "invalid workers 'x'; expected auto or a number 1..1024"));
    }

    @Test
    void brokenItemsDoNotCascade() {
        assertThat(errors("""
                listeners:
                  - name: w
                    bind: 127.0.0.1:1
                    routes: [foo, [1]]
                  - just-a-string
                upstreams:
                  backend: 127.0.0.1:9001
                """)).containsExactly(
                "t.yaml:4: listeners[0].routes[0]: expected a mapping, found a scalar 'foo'",
                "t.yaml:4: listeners[0].routes[1]: expected a mapping, found a sequence",
                "t.yaml:5: listeners[1]: expected a mapping, found a scalar 'just-a-string'",
                "t.yaml:7: upstreams.backend: expected a mapping, found a scalar '127.0.0.1:9001'");
    }

    @Test
    void recursiveAliasIsRefused() {
        assertThat(errors("x: &a [*a]\n" + LISTENER))
                .containsExactly("t.yaml:1: invalid YAML: an anchor may not contain an alias to itself");
    }
}
