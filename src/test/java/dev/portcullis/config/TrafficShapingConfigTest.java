package dev.portcullis.config;

import static dev.portcullis.config.ConfigErrorsTest.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad {@code sticky}, {@code split} and {@code mirror} config: refused with FILE:LINE: path: what to do. */
class TrafficShapingConfigTest {
    private static final String ROUTE = """
            listeners:
              - name: web
                bind: 127.0.0.1:8080
                routes:
                  - match: { path_prefix: / }
            """;
    private static final String UPSTREAMS = """
            upstreams:
              a: { endpoints: [127.0.0.1:9001] }
              b: { endpoints: [127.0.0.1:9002] }
            """;

    /** A route (line 6 is its action) and upstreams a, b; {@code c} (line 10) gets {@code cExtra}. */
    private static String route(String action) {
        return ROUTE + action + UPSTREAMS;
    }

    private static String stickyC(String sticky) {
        return route("        upstream: a\n") + "  c: { endpoints: [127.0.0.1:9003], " + sticky + " }\n";
    }

    @Test
    void splitErrors() {
        assertThat(errors(route("        split: [ { upstream: a, weight: 1 }, { upstream: nope, weight: 2 } ]\n")))
                .containsExactly("t.yaml:6: listeners[0].routes[0].split[1].upstream: unknown upstream 'nope'; defined: a, b");
        assertThat(errors(route("        split: [ { upstream: a, weight: 0 }, { upstream: b, weight: 0 } ]\n")))
                .containsExactly("t.yaml:6: listeners[0].routes[0].split: every split weight is 0; at least one must be above 0");
        assertThat(errors(route("        split: [ { upstream: a, weight: 1001 }, { upstream: b, weight: -1 } ]\n")))
                .containsExactly(
                        "t.yaml:6: listeners[0].routes[0].split[0].weight: '1001' is out of range; expected 0..1000",
                        "t.yaml:6: listeners[0].routes[0].split[1].weight: '-1' is out of range; expected 0..1000");
        assertThat(errors(route("        split: []\n"))).containsExactly(
                "t.yaml:6: listeners[0].routes[0].split: a split needs at least one { upstream: NAME, weight: N }");
        assertThat(errors(route("        split: [ { upstream: a, wieght: 3 } ]\n"))).containsExactly(
                "t.yaml:6: listeners[0].routes[0].split[0].wieght: unknown key 'wieght'; did you mean 'weight'?");
        assertThat(errors(route("        upstream: a\n        split: [ { upstream: b } ]\n"))).singleElement().asString()
                .startsWith("t.yaml:7: listeners[0].routes[0].split: a route takes exactly one of");
    }

    @Test
    void mirrorErrors() {
        assertThat(errors(route("        upstream: a\n        mirror: { upstream: nope, percent: 10 }\n")))
                .containsExactly("t.yaml:7: listeners[0].routes[0].mirror.upstream: unknown upstream 'nope'; defined: a, b");
        assertThat(errors(route("        upstream: a\n        mirror: { upstream: b, percent: 150 }\n")))
                .containsExactly("t.yaml:7: listeners[0].routes[0].mirror.percent: invalid mirror percentage '150'; "
                        + "expected a number from 0 to 100 (a '%' is optional), such as 10 or 0.5%");
        assertThat(errors(route("        upstream: a\n        mirror: { upstream: b, percent: abc }\n")))
                .singleElement().asString().startsWith("t.yaml:7: listeners[0].routes[0].mirror.percent: invalid mirror "
                        + "percentage 'abc'");
        assertThat(errors(route("        upstream: a\n        mirror: { percent: 5 }\n")))
                .containsExactly("t.yaml:7: listeners[0].routes[0].mirror: missing required key 'upstream'");
        assertThat(errors(route("        upstream: a\n        mirror: { upstream: b, pct: 5 }\n")))
                .containsExactly("t.yaml:7: listeners[0].routes[0].mirror.pct: unknown key 'pct'; expected one of: upstream, percent");
    }

    @Test
    void stickyErrors() {
        assertThat(errors(stickyC("sticky: { cookie: 'bad name' }"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky.cookie: invalid cookie name 'bad name'; expected an RFC 6265 token");
        assertThat(errors(stickyC("sticky: { cookie: 'a;b' }"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky.cookie: invalid cookie name 'a;b'; expected an RFC 6265 token");
        assertThat(errors(stickyC("sticky: { cookie: SRV, ttl: 0 }"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky.ttl: duration '0' must be above zero");
        assertThat(errors(stickyC("sticky: { secret: short }"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky.secret: a sticky secret must be at least 16 characters");
        assertThat(errors(stickyC("balance: consistent_hash, sticky: {}"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky: 'sticky' and balance: consistent_hash both pin clients; use one of them");
        assertThat(errors(stickyC("sticky: { cokie: X }"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky.cokie: unknown key 'cokie'; did you mean 'cookie'?");
        assertThat(errors(stickyC("sticky: true"))).containsExactly(
                "t.yaml:10: upstreams.c.sticky: expected a mapping, found a scalar 'true'");
    }

    @Test
    void goodConfigIsAccepted() throws Exception {
        PortcullisConfig cfg = ConfigLoader.parse(route("""
                        split: [ { upstream: a, weight: 90 }, { upstream: b, weight: 0 } ]
                        mirror: { upstream: b, percent: 0.5% }
                """) + "  c: { endpoints: [127.0.0.1:9003], sticky: { ttl: 500ms, secret: '${S:-}' } }\n",
                "t.yaml", Map.of());
        assertThat(cfg.listeners().get(0).routes().get(0).mirror()).isEqualTo(new MirrorConfig("b", 0.5));
        UpstreamConfig.Sticky sticky = cfg.upstreams().get("c").sticky();
        assertThat(sticky.cookie()).isEqualTo("PC_STICKY");
        assertThat(sticky.secret()).as("an empty secret: a key per process").isNull();
        assertThat(sticky.ttl()).hasMillis(500);
    }
}
