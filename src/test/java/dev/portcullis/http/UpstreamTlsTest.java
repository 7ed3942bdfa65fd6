package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.config.ConfigException;
import dev.portcullis.testing.H2Backend;
import dev.portcullis.testing.TestCerts;
import dev.portcullis.testing.TestProxy;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.health.ActiveHealthCheck;
import dev.portcullis.upstream.health.LogCapture;
import io.netty.pkitesting.X509Bundle;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Upstream {@code tls}: re-encryption to real TLS backends with verification of the chain and the name, SNI,
 * {@code verify: false}, client certificates (mTLS), handshake failures as connect failures (502 with a reason,
 * never the address, and a log line naming route, upstream and endpoint), health checks over TLS and unusable
 * TLS files refused at load.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UpstreamTlsTest {
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final X509Bundle CA = TestCerts.ca("Portcullis Test CA");
    static final X509Bundle OTHER_CA = TestCerts.ca("Someone Else's CA");
    static final Path CA_PEM = TestCerts.caPem(CA);
    static final Path OTHER_CA_PEM = TestCerts.caPem(OTHER_CA);

    static HttpResponse<String> get(TestProxy p, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(p.uri("web", path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static TestProxy proxy(H2Backend b, String upstreamExtra) throws Exception {
        return TestProxy.toOneUpstream(b.address(), "", upstreamExtra);
    }

    static String yaml(String path) {
        return path.replace('\\', '/');
    }

    @Test
    void verifiedAgainstTheConfiguredCaWithSni() throws Exception {
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = proxy(b, ", tls: { sni: backend.test, ca: " + yaml(CA_PEM.toString()) + " }")) {
            HttpResponse<String> r = get(p, "/hello");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("tls https/1.1 GET /hello");
            assertThat(b.sniNames).containsOnly("backend.test");
            // kept alive and reused: one handshake for several requests
            for (int i = 0; i < 5; i++) {
                assertThat(get(p, "/again").statusCode()).isEqualTo(200);
            }
            assertThat(b.connections.get()).isEqualTo(1);
        }
    }

    @Test
    void ipEndpointWithoutSniIsCheckedAgainstTheIpSan() throws Exception {
        try (H2Backend b = H2Backend.builder("ip").tls(TestCerts.server(CA, "127.0.0.1")).alpn().start();
             TestProxy p = proxy(b, ", tls: { ca: " + yaml(CA_PEM.toString()) + " }")) {
            assertThat(get(p, "/").statusCode()).isEqualTo(200);
            assertThat(b.sniNames).as("no SNI for an IP literal").containsOnly("");
        }
        // the same endpoint with a certificate for a name only: no IP SAN, refused
        try (H2Backend b = H2Backend.builder("ip").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = proxy(b, ", tls: { ca: " + yaml(CA_PEM.toString()) + " }")) {
            HttpResponse<String> r = get(p, "/");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("TLS handshake failed: certificate does not match the name");
        }
    }

    @Test
    void wrongCaIsA502NamingTheReasonNeverTheAddressAndALogLine() throws Exception {
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             LogCapture logs = LogCapture.of(UpstreamLeg.class);
             TestProxy p = proxy(b, ", tls: { sni: backend.test, ca: " + yaml(OTHER_CA_PEM.toString()) + " }")) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("TLS handshake failed: certificate not trusted")
                    .doesNotContain("127.0.0.1").doesNotContain(String.valueOf(b.port()));
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l)
                    .startsWith("WARN route ")
                    .contains("upstream be: connect to " + b.address() + " failed: TLS handshake failed: "
                            + "certificate not trusted"));
            assertThat(get(p, "/again").statusCode()).isEqualTo(502);
            assertThat(b.seen).as("nothing was sent").isEmpty();
        }
    }

    @Test
    void wrongNameIsRefused() throws Exception {
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = proxy(b, ", tls: { sni: other.test, ca: " + yaml(CA_PEM.toString()) + " }")) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("TLS handshake failed: certificate does not match the name");
            assertThat(b.sniNames).contains("other.test");
        }
    }

    @Test
    void withoutCaTheJdkTrustStoreDoesNotTrustATestCa() throws Exception {
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = proxy(b, ", tls: { sni: backend.test }")) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.body()).contains("TLS handshake failed: certificate not trusted");
        }
    }

    @Test
    void verifyFalseTrustsAnyCertificateAndNameWithAWarning() throws Exception {
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(OTHER_CA, "elsewhere.test")).alpn().start();
             LogCapture logs = LogCapture.of(dev.portcullis.runtime.SnapshotCompiler.class);
             TestProxy p = proxy(b, ", tls: { sni: backend.test, verify: false }")) {
            HttpResponse<String> r = get(p, "/x");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(b.sniNames).containsOnly("backend.test");
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN upstream be: tls.verify is false"));
        }
    }

    @Test
    void clientCertificateForMtls() throws Exception {
        X509Bundle clients = TestCerts.ca("Client CA");
        X509Bundle proxyCert = TestCerts.client(clients, "portcullis");
        String tls = "sni: backend.test, ca: " + yaml(CA_PEM.toString());
        try (H2Backend b = H2Backend.builder("mtls").tls(TestCerts.server(CA, "backend.test")).alpn()
                .requireClientCert(clients).start()) {
            try (TestProxy p = proxy(b, ", tls: { " + tls + ", cert: " + yaml(TestCerts.chainPem(proxyCert).toString())
                    + ", key: " + yaml(TestCerts.keyPem(proxyCert).toString()) + " }")) {
                assertThat(get(p, "/with-cert").statusCode()).isEqualTo(200);
            }
            try (TestProxy p = proxy(b, ", tls: { " + tls + " }")) {
                HttpResponse<String> r = get(p, "/without-cert");
                assertThat(r.statusCode()).isEqualTo(502);
                assertThat(r.body()).doesNotContain("127.0.0.1");
                // a certificate from a CA the backend does not accept is refused too
                X509Bundle stranger = TestCerts.client(OTHER_CA, "stranger");
                p.reload(TestProxy.oneRouteYaml("", b.address(), ", tls: { " + tls + ", cert: "
                        + yaml(TestCerts.chainPem(stranger).toString()) + ", key: "
                        + yaml(TestCerts.keyPem(stranger).toString()) + " }", ""));
                assertThat(get(p, "/stranger").statusCode()).isEqualTo(502);
            }
            assertThat(b.seen).extracting(H2Backend.Seen::uri).containsExactly("/with-cert");
        }
    }

    @Test
    void httpHealthCheckRunsOverTlsAndAFailedHandshakeFailsIt() throws Exception {
        String check = ", health_check: { http: { path: /healthz }, interval: 300ms, timeout: 300ms, "
                + "healthy_threshold: 1, unhealthy_threshold: 2 }";
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             LogCapture logs = LogCapture.of(ActiveHealthCheck.class);
             TestProxy p = proxy(b, ", tls: { sni: backend.test, ca: " + yaml(CA_PEM.toString()) + " }" + check)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> b.seen.stream().anyMatch(s -> s.uri().equals("/healthz")));
            Endpoint e = endpoint(p);
            assertThat(e.state().healthy()).isTrue();
            ReloadOutcome out = p.reload(TestProxy.oneRouteYaml("", b.address(),
                    ", tls: { sni: backend.test, ca: " + yaml(OTHER_CA_PEM.toString()) + " }" + check, ""));
            assertThat(out).isInstanceOf(ReloadOutcome.Applied.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> !endpoint(p).state().healthy());
            assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("is unhealthy after 2 failed check(s)")
                    .contains("TLS handshake failed: certificate not trusted"));
        }
    }

    static Endpoint endpoint(TestProxy p) {
        return p.process().snapshot().upstreams().get("be").endpoints().get(0);
    }

    @Test
    void unusableTlsFilesAreConfigErrorsNamingTheKey() throws Exception {
        Path garbage = Files.createTempFile("not-a-ca", ".pem");
        garbage.toFile().deleteOnExit();
        Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TestProxy.toOneUpstream("127.0.0.1:9", "", ", tls: { ca: " + yaml(garbage.toString())
                + " }"))
                .isInstanceOf(ConfigException.class)
                .hasMessageMatching("(?s).*:[1-9][0-9]*: upstreams\\.be\\.tls\\.ca: .*")
                .hasMessageContaining(garbage.toString());
        X509Bundle c = TestCerts.client(CA, "x");
        X509Bundle other = TestCerts.client(CA, "y");
        assertThatThrownBy(() -> TestProxy.toOneUpstream("127.0.0.1:9", "", ", tls: { cert: "
                + yaml(TestCerts.chainPem(c).toString()) + ", key: " + yaml(TestCerts.keyPem(other).toString()) + " }"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("upstreams.be.tls.key")
                .hasMessageContaining("is not the private key of");

        // at reload: refused, the old config keeps serving
        try (H2Backend b = H2Backend.builder("tls").tls(TestCerts.server(CA, "backend.test")).alpn().start();
             TestProxy p = proxy(b, ", tls: { sni: backend.test, ca: " + yaml(CA_PEM.toString()) + " }")) {
            ReloadOutcome out = p.reload(TestProxy.oneRouteYaml("", b.address(),
                    ", tls: { sni: backend.test, ca: " + yaml(garbage.toString()) + " }", ""));
            assertThat(out).isInstanceOf(ReloadOutcome.Refused.class);
            assertThat(out.toString()).contains("upstreams.be.tls.ca");
            assertThat(get(p, "/still").statusCode()).isEqualTo(200);
        }
    }
}
