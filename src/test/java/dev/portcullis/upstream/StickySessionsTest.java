package dev.portcullis.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.TestEndpoints.Tries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The cookie ids of {@code sticky} and when a pin is honoured, without sockets. */
class StickySessionsTest {
    private static final String SECRET = "0123456789abcdef-secret";

    private static Upstream upstream(String secret, String... specs) {
        UpstreamConfig c = TestEndpoints.config(UpstreamConfig.Balance.ROUND_ROBIN, specs);
        UpstreamConfig sticky = new UpstreamConfig(c.name(), c.endpoints(), c.balance(), c.hashOn(), c.hashMethod(),
                c.discovery(), new UpstreamConfig.Sticky("SRV", Duration.ofMillis(1500), secret), c.healthCheck(),
                c.outlierDetection(), c.slowStart(), c.circuitBreaker(), c.panicThreshold(), c.connectTimeout(),
                c.keepalive());
        return TestEndpoints.upstream(sticky, specs);
    }

    private static Endpoint byHost(Upstream u, String host) {
        return u.endpoints().stream().filter(e -> e.address().host().equals(host)).findFirst().orElseThrow();
    }

    @Test
    void idsAreOpaqueStableAndDependOnTheKey() {
        Upstream u = upstream(SECRET, "a", "b", "c");
        StickySessions s = u.sticky();
        Set<String> ids = new HashSet<>();
        for (Endpoint e : u.endpoints()) {
            String id = s.id(e);
            assertThat(id).matches("[A-Za-z0-9_-]{16}").doesNotContain(e.address().host() + ":");
            assertThat(s.pinned(id, new Tries())).isSameAs(e);
            ids.add(id);
        }
        assertThat(ids).hasSize(3);
        // the same secret in another instance (a restart): the same ids
        Upstream again = upstream(SECRET, "c", "a", "b");
        assertThat(again.sticky().id(byHost(again, "a"))).isEqualTo(s.id(byHost(u, "a")));
        // another secret: other ids, and the old ones are unknown
        Upstream other = upstream("another-secret-of-16+", "a", "b", "c");
        assertThat(other.sticky().id(byHost(other, "a"))).isNotEqualTo(s.id(byHost(u, "a")));
        assertThat(other.sticky().pinned(s.id(byHost(u, "a")), new Tries())).isNull();
        // no secret: one random key per process, the same for every upstream instance in it
        assertThat(upstream(null, "a").sticky().id(byHost(upstream(null, "a"), "a")))
                .isEqualTo(upstream(null, "a", "b").sticky().id(byHost(upstream(null, "a", "b"), "a")))
                .isNotEqualTo(s.id(byHost(u, "a")));
        assertThat(s.setCookie(byHost(u, "b"))).isEqualTo("SRV=" + s.id(byHost(u, "b"))
                + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=2");
    }

    @Test
    void pinIsHonouredOnlyWhenTheEndpointMayTakeTheRequest() {
        Upstream u = upstream(SECRET, "a", "b", "x:1:backup");
        StickySessions s = u.sticky();
        Endpoint a = byHost(u, "a");
        Endpoint x = byHost(u, "x");
        String idA = s.id(a);
        assertThat(s.pinned(null, new Tries())).isNull();
        assertThat(s.pinned("garbage", new Tries())).isNull();
        Tries tried = new Tries();
        tried.tried.add(a);
        assertThat(s.pinned(idA, tried)).as("a retry goes elsewhere").isNull();

        a.state().drained(true);
        assertThat(s.pinned(idA, new Tries())).isNull();
        a.state().drained(false);
        a.state().checkResult(false, 1, 1);
        assertThat(s.pinned(idA, new Tries())).as("unhealthy").isNull();
        a.state().checkResult(true, 1, 1);
        a.state().eject(System.nanoTime(), Duration.ofMinutes(1).toNanos());
        assertThat(s.pinned(idA, new Tries())).as("ejected").isNull();
        a.state().unEject();
        assertThat(s.pinned(idA, new Tries())).isSameAs(a);

        // a backup pin holds only while backups take traffic
        assertThat(s.pinned(s.id(x), new Tries())).isNull();
        byHost(u, "a").state().checkResult(false, 1, 1);
        byHost(u, "b").state().checkResult(false, 1, 1);
        u.refresh();
        assertThat(s.pinned(s.id(x), new Tries())).isSameAs(x);
    }

    @Test
    void tableFollowsEndpointChanges() {
        Upstream u = upstream(SECRET, "a", "b");
        StickySessions s = u.sticky();
        Endpoint b = byHost(u, "b");
        String idB = s.id(b);
        // as DNS discovery does: a new list, b gone, c new
        List<Endpoint> next = new ArrayList<>(List.of(byHost(u, "a"), TestEndpoints.ep("c")));
        u.endpoints(next);
        assertThat(s.pinned(idB, new Tries())).isNull();
        assertThat(s.id(b)).isNull();
        assertThat(s.setCookie(b)).isNull();
        Endpoint c = byHost(u, "c");
        assertThat(s.pinned(s.id(c), new Tries())).isSameAs(c);
    }
}
