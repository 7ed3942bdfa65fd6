package dev.portcullis.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.auth.BasicCredentials.Invalid;
import dev.portcullis.auth.BasicCredentials.Result;
import dev.portcullis.auth.BasicCredentials.Valid;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BasicCredentialsTest {

    private static String basic(String userPass) {
        return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }

    private static String basicBytes(byte[] raw) {
        return "Basic " + Base64.getEncoder().encodeToString(raw);
    }

    @Test
    void wellFormedHeaders() {
        assertThat(BasicCredentials.fromHeader(basic("alice:secret"))).isEqualTo(new Valid("alice", "secret"));
        // RFC 7617's example
        assertThat(BasicCredentials.fromHeader("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="))
                .isEqualTo(new Valid("Aladdin", "open sesame"));
        assertThat(BasicCredentials.fromHeader("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  "))
                .isEqualTo(new Valid("Aladdin", "open sesame"));
        assertThat(BasicCredentials.fromHeader("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ"))   // padding left out
                .isEqualTo(new Valid("Aladdin", "open sesame"));
        // The password may hold colons; the first one splits.
        assertThat(BasicCredentials.fromHeader(basic("bob:a:b:c"))).isEqualTo(new Valid("bob", "a:b:c"));
        assertThat(BasicCredentials.fromHeader(basic("bob:"))).isEqualTo(new Valid("bob", ""));
        assertThat(BasicCredentials.fromHeader(basic("jürgen:pässwörd"))).isEqualTo(new Valid("jürgen", "pässwörd"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "Basic", "Basic ", "Bearer abc.def", "Digest username=\"a\"", "Basicx QWxhZGRpbjpvcGVu",
            "Basic !!!notbase64", "Basic QWxh ZGRp", "Basic QWxhZGRpbg==",     // no colon
            "Basic OnNlY3JldA==",                                              // ":secret", empty user
    })
    void badHeaders(String header) {
        assertThat(BasicCredentials.fromHeader(header)).as(header).isInstanceOf(Invalid.class);
    }

    @Test
    void nullAndOversizedHeaders() {
        assertThat(BasicCredentials.fromHeader(null)).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromHeader("Basic " + "A".repeat(BasicCredentials.MAX_HEADER_LENGTH)))
                .isEqualTo(new Invalid("credentials too long"));
    }

    @Test
    void sizeLimits() {
        String user255 = "u".repeat(255);
        assertThat(BasicCredentials.fromHeader(basic(user255 + ":p"))).isInstanceOf(Valid.class);
        assertThat(BasicCredentials.fromHeader(basic(user255 + "u:p"))).isInstanceOf(Invalid.class);
        String pw = "p".repeat(BasicCredentials.MAX_PASSWORD_BYTES);
        assertThat(BasicCredentials.fromHeader(basic(user255 + ":" + pw))).isInstanceOf(Valid.class);
        assertThat(BasicCredentials.fromHeader(basic("u:" + pw + "p"))).isInstanceOf(Invalid.class);
    }

    @Test
    void notUtf8AndControlCharactersAreRefused() {
        byte[] latin1 = "j\u00fcrgen:pw".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(BasicCredentials.fromHeader(basicBytes(latin1))).isEqualTo(new Invalid("credentials are not UTF-8"));
        assertThat(BasicCredentials.fromHeader(basic("al\nice:pw"))).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromHeader(basic("alice:p\u0000w"))).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromHeader(basic("alice:p\u007fw"))).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromHeader(basic("alice:p\u0085w"))).isInstanceOf(Invalid.class);
    }

    @Test
    void socks5Fields() {
        byte[] u = "alice".getBytes(StandardCharsets.UTF_8);
        byte[] p = "secret".getBytes(StandardCharsets.UTF_8);
        assertThat(BasicCredentials.fromSocks5(u, p)).isEqualTo(new Valid("alice", "secret"));
        assertThat(BasicCredentials.fromSocks5(new byte[0], p)).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromSocks5(u, new byte[0])).isEqualTo(new Valid("alice", ""));
        assertThat(BasicCredentials.fromSocks5(new byte[256], p)).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromSocks5(u, new byte[256])).isInstanceOf(Invalid.class);
        assertThat(BasicCredentials.fromSocks5(new byte[] {(byte) 0xC3, 0x28}, p)).isInstanceOf(Invalid.class);
    }

    @Test
    void passwordsNeverShowInStringsOrReasons() {
        Result r = BasicCredentials.fromHeader(basic("alice:hunter2"));
        assertThat(r.toString()).doesNotContain("hunter2").contains("alice");
        Result bad = BasicCredentials.fromHeader(basic("al\u0001ice:hunter2"));
        assertThat(bad.toString()).doesNotContain("hunter2");
    }
}
