package dev.portcullis.upstream.discovery;

import static dev.portcullis.upstream.health.Proxies.send;
import static dev.portcullis.upstream.health.Proxies.upstream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.health.HealthBackend;
import dev.portcullis.upstream.health.LogCapture;
import dev.portcullis.upstream.health.Proxies;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Endpoints from DNS: resolved off the request loops, changes applied without dropping requests. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DiscoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A resolver whose answer the test sets; null makes it fail. */
    private static final class FakeDns implements Resolver {
        final AtomicReference<List<String>> answer = new AtomicReference<>();
        volatile String askedFor;

        @Override
        public List<InetAddress> resolve(String host) throws UnknownHostException {
            askedFor = host;
            List<String> a = answer.get();
            if (a == null) {
                throw new UnknownHostException(host + ": no such name (test)");
            }
            return a.stream().map(FakeDns::ip).toList();
        }

        static InetAddress ip(String s) {
            try {
                return InetAddress.getByName(s);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static List<String> labels(TestProxy p) {
        return upstream(p, "be").endpoints().stream().map(Endpoint::label).toList();
    }

    private static Endpoint find(TestProxy p, String label) {
        return upstream(p, "be").endpoints().stream().filter(e -> e.label().equals(label)).findFirst().orElse(null);
    }

    @Test
    void localhostGivesTheLoopbackEndpoint() throws Exception {
        try (HealthBackend a = HealthBackend.start("a");
             TestProxy p = TestProxy.toOneUpstream("", "",
                     ", discovery: { dns: localhost:" + a.port() + ", refresh: 200ms }")) {
            await().atMost(WAIT).until(() -> labels(p).contains("127.0.0.1:" + a.port()));
            Endpoint e = find(p, "127.0.0.1:" + a.port());
            send(p, 10);
            assertThat(a.requests.get()).isEqualTo(10);
            Thread.sleep(600); // several refreshes with the same answer: nothing changes
            assertThat(find(p, "127.0.0.1:" + a.port())).isSameAs(e);
        }
    }

    @Test
    void answersThatChangeAddAndRemoveEndpointsWithoutDroppingARequest() throws Exception {
        try (HealthBackend one = HealthBackend.start("one", "127.0.0.1", 0);
             HealthBackend two = HealthBackend.start("two", "127.0.0.2", one.port());
             HealthBackend three = HealthBackend.start("three", "127.0.0.3", one.port());
             LogCapture logs = LogCapture.of(DnsDiscovery.class);
             TestProxy p = TestProxy.toOneUpstream("", "",
                     ", discovery: { dns: localhost:" + one.port() + ", refresh: 100ms }")) {
            int port = one.port();
            FakeDns dns = new FakeDns();
            dns.answer.set(List.of("127.0.0.1"));
            p.process().supervisor().resolver(dns);
            await().atMost(WAIT).until(() -> labels(p).equals(List.of("127.0.0.1:" + port)) && dns.askedFor != null);
            assertThat(dns.askedFor).isEqualTo("localhost");
            Endpoint first = find(p, "127.0.0.1:" + port);

            dns.answer.set(List.of("127.0.0.2", "127.0.0.1"));
            await().atMost(WAIT).until(() -> labels(p).size() == 2);
            assertThat(find(p, "127.0.0.1:" + port)).as("an address that stays keeps its endpoint").isSameAs(first);
            send(p, 20);
            assertThat(one.requests.get()).isEqualTo(10);
            assertThat(two.requests.get()).isEqualTo(10);

            // a request in flight on an endpoint that DNS drops finishes
            URI slow = URI.create("http://127.0.0.1:" + p.port("web") + "/slow");
            CompletableFuture<HttpResponse<String>> inFlight = Proxies.CLIENT.sendAsync(
                    HttpRequest.newBuilder(slow).build(), HttpResponse.BodyHandlers.ofString());
            await().atMost(WAIT).until(() -> one.slowInFlight.get() + two.slowInFlight.get() == 1);
            HealthBackend busy = one.slowInFlight.get() == 1 ? one : two;
            HealthBackend other = busy == one ? two : one;
            Endpoint leaving = find(p, busy.address());
            dns.answer.set(List.of(other.host(), "127.0.0.3"));
            await().atMost(WAIT).until(() -> labels(p).equals(List.of(other.address(), three.address())));
            assertThat(leaving.retired()).as("no longer pooled").isTrue();
            int busyBefore = busy.requests.get();
            send(p, 20);
            assertThat(busy.requests.get()).isEqualTo(busyBefore);
            assertThat(three.requests.get()).isEqualTo(10);
            busy.slowGate.countDown();
            HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(busy.name);
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).isEqualTo("INFO upstream be: DNS localhost gives 2 "
                    + "endpoint(s); added [" + three.address() + "]; removed [" + busy.address() + "]"));

            // a failed lookup keeps the last good list and says so once
            dns.answer.set(null);
            await().atMost(WAIT).until(() -> logs.lines().stream().anyMatch(l -> l.startsWith("ERROR")));
            Thread.sleep(300);
            assertThat(labels(p)).containsExactly(other.address(), three.address());
            assertThat(logs.lines().stream().filter(l -> l.startsWith("ERROR"))).singleElement().asString()
                    .startsWith("ERROR upstream be: DNS discovery of localhost:" + port + " failed "
                            + "(java.net.UnknownHostException: localhost: no such name (test)); keeping the 2 endpoint(s)");
            send(p, 10);

            // the dropped address comes back as a fresh endpoint
            dns.answer.set(List.of("127.0.0.1", "127.0.0.2", "127.0.0.3"));
            await().atMost(WAIT).until(() -> labels(p).size() == 3);
            Endpoint back = find(p, busy.address());
            assertThat(back).isNotSameAs(leaving);
            assertThat(back.retired()).isFalse();
        }
    }

    @Test
    void reloadKeepsDiscoveredEndpointsAndChecksFollowThem() throws Exception {
        try (HealthBackend one = HealthBackend.start("one", "127.0.0.1", 0);
             HealthBackend two = HealthBackend.start("two", "127.0.0.2", one.port())) {
            String yaml = """
                    listeners:
                      - { name: web, bind: 127.0.0.1:0, routes: [ { upstream: be } ] }
                    upstreams:
                      be:
                        endpoints: []
                        discovery: { dns: localhost:%d, refresh: %s }
                        health_check: { http: { path: /healthz }, interval: 200ms, timeout: 200ms, unhealthy_threshold: 3 }
                    """;
            try (TestProxy p = TestProxy.start(yaml.formatted(one.port(), "100ms"))) {
                FakeDns dns = new FakeDns();
                dns.answer.set(List.of("127.0.0.1"));
                p.process().supervisor().resolver(dns);
                await().atMost(WAIT).until(() -> labels(p).equals(List.of(one.address())));
                dns.answer.set(List.of("127.0.0.1", "127.0.0.2"));
                await().atMost(WAIT).until(() -> labels(p).size() == 2);
                await("a discovered endpoint is health checked").atMost(WAIT)
                        .until(() -> two.passedChecks.get() >= 1);
                two.healthStatus = 500;
                await().atMost(WAIT).until(() -> !find(p, two.address()).state().healthy());

                List<Endpoint> before = upstream(p, "be").endpoints();
                // a 10 s refresh: the new version has the endpoints from its first request, not after a lookup
                assertThat(p.reload(yaml.formatted(one.port(), "10s"))).isInstanceOf(ReloadOutcome.Applied.class);
                List<Endpoint> after = upstream(p, "be").endpoints();
                assertThat(after).hasSize(2);
                assertThat(after.get(0)).isSameAs(before.get(0));
                assertThat(after.get(1)).isSameAs(before.get(1));
                assertThat(after.get(1).state().healthy()).isFalse();
                send(p, 10);
                assertThat(one.requests.get()).isEqualTo(10);
                assertThat(two.requests.get()).isZero();
                two.healthStatus = 200;
                await().atMost(WAIT).until(() -> after.get(1).state().healthy());
            }
        }
    }
}
