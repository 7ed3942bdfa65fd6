package dev.portcullis.http;

import static dev.portcullis.http.UpstreamTlsTest.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.testing.H2Backend;
import dev.portcullis.testing.TestCerts;
import dev.portcullis.testing.TestProxy;
import io.netty.pkitesting.X509Bundle;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pool key is the whole connection identity: a pooled connection (HTTP/1.1, or an HTTP/2 connection's
 * streams) is reused only by an upstream whose protocol and TLS settings, files included, equal those it was
 * opened with. A reload that changes anything else keeps the pooled connections.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamPoolKeyTest {
    static final X509Bundle CA = UpstreamTlsTest.CA;
    static final String GOOD_CA = UpstreamTlsTest.CA_PEM.toString().replace('\\', '/');
    static final String WRONG_CA = UpstreamTlsTest.OTHER_CA_PEM.toString().replace('\\', '/');

    static String yaml(H2Backend b, String upstreamExtra) {
        return TestProxy.oneRouteYaml("workers: 1\n", b.address(), upstreamExtra, "");
    }

    @Test
    void aReloadThatChangesTlsDoesNotReuseOldConnections() throws Exception {
        try (H2Backend b = H2Backend.builder("k").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = TestProxy.start(yaml(b, ", tls: { sni: backend.test, verify: false }"))) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).isEqualTo(1);

            // verification on, against a CA that did not issue the backend's certificate: the idle, already
            // verified-by-nobody connection must not serve this upstream any more
            assertThat(p.reload(yaml(b, ", tls: { sni: backend.test, ca: " + WRONG_CA + " }")))
                    .isInstanceOf(ReloadOutcome.Applied.class);
            HttpResponse<String> r = get(p, "/2");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("certificate not trusted");
            assertThat(b.seen).extracting(H2Backend.Seen::uri).containsExactly("/1");

            assertThat(p.reload(yaml(b, ", tls: { sni: backend.test, ca: " + GOOD_CA + " }")))
                    .isInstanceOf(ReloadOutcome.Applied.class);
            assertThat(get(p, "/3").statusCode()).isEqualTo(200);
            int after = b.connections.get();
            assertThat(after).isGreaterThanOrEqualTo(2);
            assertThat(get(p, "/4").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).as("the new connection is pooled in turn").isEqualTo(after);
        }
    }

    @Test
    void aReloadThatChangesOtherKeysKeepsPooledTlsConnections() throws Exception {
        try (H2Backend b = H2Backend.builder("k").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = TestProxy.start(yaml(b, ", tls: { sni: backend.test, ca: " + GOOD_CA + " }"))) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            assertThat(p.reload(yaml(b, ", tls: { sni: backend.test, ca: " + GOOD_CA + " }, connect_timeout: 3s, "
                    + "slow_start: 0s, keepalive: { max_idle_per_endpoint: 8 }")))
                    .isInstanceOf(ReloadOutcome.Applied.class);
            assertThat(get(p, "/2").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).as("one handshake for both").isEqualTo(1);
        }
    }

    @Test
    void aCaFileReplacedOnDiskCountsAsAChangeAtTheNextReload() throws Exception {
        Path ca = Files.createTempFile("upstream-ca", ".pem");
        ca.toFile().deleteOnExit();
        Files.copy(UpstreamTlsTest.CA_PEM, ca, StandardCopyOption.REPLACE_EXISTING);
        String cfg = ", tls: { sni: backend.test, ca: " + ca.toString().replace('\\', '/') + " }";
        try (H2Backend b = H2Backend.builder("k").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = TestProxy.start(yaml(b, cfg))) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            Files.copy(UpstreamTlsTest.OTHER_CA_PEM, ca, StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(ca, FileTime.from(Instant.now().plusSeconds(5)));
            assertThat(p.reload(yaml(b, cfg))).isInstanceOf(ReloadOutcome.Applied.class);
            HttpResponse<String> r = get(p, "/2");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("certificate not trusted");
        }
    }

    @Test
    void http2ConnectionsAreKeyedTheSameWay() throws Exception {
        String tls = ", protocol: http2, tls: { sni: backend.test, ca: " + GOOD_CA;
        try (H2Backend b = H2Backend.builder("k2").tls(TestCerts.server(CA, "backend.test")).alpn("h2").start();
             TestProxy p = TestProxy.start(yaml(b, tls + " }"))) {
            assertThat(get(p, "/1").statusCode()).isEqualTo(200);
            assertThat(get(p, "/2").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).isEqualTo(1);
            // same settings, another key changed: streams go on the same connection
            p.reload(yaml(b, tls + " }, connect_timeout: 3s"));
            assertThat(get(p, "/3").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).isEqualTo(1);
            // tls changed (verify off): a new connection
            p.reload(TestProxy.oneRouteYaml("workers: 1\n", b.address(),
                    ", protocol: http2, tls: { sni: backend.test, verify: false }", ""));
            assertThat(get(p, "/4").statusCode()).isEqualTo(200);
            assertThat(b.connections.get()).isEqualTo(2);
        }
    }
}
