package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code forward.parent}: what is accepted, and every way of writing it wrong named by file, line and key. */
class ForwardParentConfigTest {

    private static String yaml(String parent) {
        return """
                listeners:
                  - name: out
                    bind: 127.0.0.1:3128
                    mode: forward
                    forward:
                      parent: %s
                """.formatted(parent);
    }

    private static ForwardConfig.Parent parent(String parent, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml(parent), "t.yaml", env).listeners().get(0).forward().parent();
    }

    private static List<String> errors(String parent) {
        return ConfigErrorsTest.errors(yaml(parent));
    }

    @Test
    void aParentWithAndWithoutCredentials() throws Exception {
        ForwardConfig.Parent p = parent("{ address: proxy.corp.example:3128 }", Map.of());
        assertThat(p.address()).isEqualTo(new HostPort("proxy.corp.example", 3128));
        assertThat(p.user()).isNull();
        assertThat(p.password()).isNull();
        ForwardConfig.Parent withAuth = parent("{ address: \"[fd00::1]:8080\", auth: { basic: { user: chain, "
                + "password: \"${PARENT_PASSWORD}\" } } }", Map.of("PARENT_PASSWORD", "p4ss:w0rd"));
        assertThat(withAuth.address()).isEqualTo(new HostPort("fd00::1", 8080));
        assertThat(withAuth.user()).isEqualTo("chain");
        assertThat(withAuth.password()).isEqualTo("p4ss:w0rd");
        assertThat(withAuth.toString()).doesNotContain("p4ss");
        // without the key: straight to origins
        assertThat(ConfigLoader.parse(yaml("{ address: p:1 }").replace("      parent: { address: p:1 }\n",
                "      anonymize: off\n"), "t.yaml", Map.of()).listeners().get(0).forward().parent()).isNull();
    }

    @Test
    void aBadAddressIsNamed() {
        assertThat(errors("{ address: proxy.corp.example }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent.address: missing port in 'proxy.corp.example'; expected "
                        + "host:port such as 127.0.0.1:8080");
        assertThat(errors("{ address: \"proxy:0\" }")).singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent.address: invalid port '0'");
        assertThat(errors("{ address: \"bad host:3128\" }")).singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent.address: invalid host name 'bad host'");
        assertThat(errors("{ address: [a, b] }")).singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent.address: expected an address host:port");
        assertThat(errors("proxy:3128")).singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent: expected a mapping");
    }

    @Test
    void missingAndUnknownKeysAreNamed() {
        assertThat(errors("{ }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent: missing required key 'address'");
        assertThat(errors("{ address: p:3128, adress: q:1 }")).singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent.adress: unknown key 'adress'; did you mean "
                        + "'address'?");
        assertThat(errors("{ address: p:3128, auth: { } }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent.auth: missing required key 'basic'");
        assertThat(errors("{ address: p:3128, auth: { basic: { user: u } } }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent.auth.basic: missing required key 'password'");
        assertThat(errors("{ address: p:3128, auth: { basic: { password: x } } }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent.auth.basic: missing required key 'user'");
        assertThat(errors("{ address: p:3128, auth: { basic: { user: u, password: x, realm: r } } }"))
                .singleElement().asString()
                .startsWith("t.yaml:6: listeners[0].forward.parent.auth.basic.realm: unknown key 'realm'");
    }

    @Test
    void credentialsThatBasicCannotCarryAreRefused() {
        assertThat(errors("{ address: p:3128, auth: { basic: { user: \"a:b\", password: x } } }")).containsExactly(
                "t.yaml:6: listeners[0].forward.parent.auth.basic.user: a user for Basic authentication is 1 to 255 "
                        + "bytes without ':' or control characters");
        assertThat(errors("{ address: p:3128, auth: { basic: { user: \"\", password: x } } }")).singleElement()
                .asString().contains("parent.auth.basic.user: a user for Basic authentication");
        assertThat(errors("{ address: p:3128, auth: { basic: { user: u, password: \"a\\nb\" } } }"))
                .containsExactly("t.yaml:6: listeners[0].forward.parent.auth.basic.password: a password for Basic "
                        + "authentication is at most 1024 bytes without control characters");
        assertThat(errors("{ address: p:3128, auth: { basic: { user: u, password: \"" + "x".repeat(1025)
                + "\" } } }")).singleElement().asString().contains("parent.auth.basic.password: ");
    }
}
