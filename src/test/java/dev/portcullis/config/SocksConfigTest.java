package dev.portcullis.config;

import static dev.portcullis.config.ConfigErrorsTest.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code protocol: socks5} listeners: what they read, and the keys of HTTP listeners they refuse, naming why. */
class SocksConfigTest {

    @Test
    void theReferenceListenerReadsAsAForwardProxyWithItsRules() throws Exception {
        PortcullisConfig c = ConfigLoader.parse("""
                listeners:
                  - name: socks
                    bind: 127.0.0.1:1080
                    protocol: socks5
                    forward: { clients: [127.0.0.0/8], deny_private_destinations: true }
                  - name: plain
                    bind: 127.0.0.1:1081
                    protocol: SOCKS5
                    limits: { max_connections: 10, header_read_timeout: 5s, idle_timeout: 2m }
                """, "t.yaml", Map.of());
        ListenerConfig socks = c.listeners().get(0);
        assertThat(socks.protocol()).isEqualTo(ListenerConfig.Protocol.SOCKS5);
        assertThat(socks.mode()).isEqualTo(ListenerConfig.Mode.FORWARD);
        assertThat(socks.routes()).isEmpty();
        assertThat(socks.tls()).isNull();
        assertThat(socks.forward().clients()).containsExactly("127.0.0.0/8");
        assertThat(socks.forward().denyPrivateDestinations()).isTrue();
        assertThat(socks.forward().htpasswd()).isNull();
        // without a forward section: loopback clients only, the guard on
        ListenerConfig plain = c.listeners().get(1);
        assertThat(plain.forward().clients()).isEqualTo(ForwardConfig.LOOPBACK_CLIENTS);
        assertThat(plain.forward().denyPrivateDestinations()).isTrue();
        assertThat(plain.limits().maxConnections()).isEqualTo(10);
        assertThat(plain.limits().headerReadTimeout()).hasSeconds(5);
    }

    @Test
    void httpKeysAreRefusedNamingWhy() {
        assertThat(errors("""
                caches:
                  default: { memory: 1MiB }
                listeners:
                  - name: socks
                    bind: 127.0.0.1:1080
                    protocol: socks5
                    mode: forward
                    tls: { self_signed: true }
                    http2: { enabled: false }
                    limits: { max_header_size: 8KiB, max_body_size: 1MiB, idle_timeout: 1m }
                    routes: [ { upstream: backend } ]
                    forward:
                      connect_ports: [443]
                      anonymize: strict
                      cache: default
                      parent: { address: proxy.example:3128 }
                      intercept_tls: { ca_cert: ca.pem, ca_key: ca.key }
                      deny_domains: [ads.example]
                upstreams:
                  backend: { endpoints: [127.0.0.1:9001] }
                """)).containsExactly(
                "t.yaml:7: listeners[0].mode: 'mode' applies to http and https listeners; a socks5 listener is "
                        + "always a forward proxy, with its rules under 'forward'",
                "t.yaml:8: listeners[0].tls: 'tls' needs protocol: https (a socks5 listener is not served over TLS)",
                "t.yaml:9: listeners[0].http2: 'http2' applies to http and https listeners",
                "t.yaml:10: listeners[0].limits.max_header_size: 'max_header_size' bounds HTTP messages; a socks5 "
                        + "listener does not read it (SOCKS5 messages are at most 513 bytes)",
                "t.yaml:10: listeners[0].limits.max_body_size: 'max_body_size' bounds HTTP messages; a socks5 "
                        + "listener does not read it (SOCKS5 messages are at most 513 bytes)",
                "t.yaml:11: listeners[0].routes: a socks5 listener has no 'routes': it goes where each client "
                        + "asks, within its 'forward' rules",
                "t.yaml:13: listeners[0].forward.connect_ports: 'connect_ports' limits HTTP CONNECT tunnels; a "
                        + "socks5 listener does not read it (use deny_domains and deny_private_destinations to "
                        + "limit where clients go)",
                "t.yaml:14: listeners[0].forward.anonymize: 'anonymize' removes HTTP header fields; a socks5 "
                        + "listener relays bytes and has none to remove",
                "t.yaml:15: listeners[0].forward.cache: 'cache' stores HTTP responses; a socks5 listener relays "
                        + "bytes and has nothing to cache",
                "t.yaml:16: listeners[0].forward.parent: 'parent' is not supported for socks5 listeners yet",
                "t.yaml:17: listeners[0].forward.intercept_tls: 'intercept_tls' is not supported for socks5 "
                        + "listeners");
    }

    @Test
    void theForwardRulesAreCheckedAsForHttpForwardListeners() {
        List<String> errors = errors("""
                listeners:
                  - name: socks
                    bind: 127.0.0.1:1080
                    protocol: socks5
                    forward:
                      clients: [not-a-cidr]
                      auth: { basic: { realm: x } }
                      deny_domains: ["a b"]
                      allow_prviate: [10.0.0.0/8]
                """);
        assertThat(errors).anyMatch(e -> e.startsWith("t.yaml:9: listeners[0].forward.allow_prviate: unknown key "
                + "'allow_prviate'; did you mean 'allow_private'?"));
        assertThat(errors).anyMatch(e -> e.startsWith("t.yaml:6: listeners[0].forward.clients[0]: "));
        assertThat(errors).anyMatch(e -> e.contains("listeners[0].forward.auth.basic: missing required key "
                + "'htpasswd'"));
        assertThat(errors).anyMatch(e -> e.startsWith("t.yaml:8: listeners[0].forward.deny_domains[0]: invalid "
                + "domain 'a b'"));
    }

    @Test
    void protocolsNotBuiltYetAreStillRefused() {
        assertThat(errors("""
                listeners:
                  - name: t
                    bind: 127.0.0.1:5432
                    protocol: tcp
                """)).contains("t.yaml:4: listeners[0].protocol: protocol 'tcp' is not supported in this version yet");
    }
}
