package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.forward.HostSyntax.Authority;
import dev.portcullis.forward.HostSyntax.DomainName;
import dev.portcullis.forward.HostSyntax.Host;
import dev.portcullis.forward.HostSyntax.Invalid;
import dev.portcullis.forward.HostSyntax.IpLiteral;
import java.net.Inet4Address;
import java.net.Inet6Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostSyntaxTest {

    private static String ip(String host) {
        Host h = HostSyntax.parse(host);
        assertThat(h).as(host).isInstanceOf(IpLiteral.class);
        return ((IpLiteral) h).text();
    }

    private static String name(String host) {
        Host h = HostSyntax.parse(host);
        assertThat(h).as(host).isInstanceOf(DomainName.class);
        return ((DomainName) h).name();
    }

    private static String invalid(String host) {
        Host h = HostSyntax.parse(host);
        assertThat(h).as(host).isInstanceOf(Invalid.class);
        return ((Invalid) h).why();
    }

    /** Every spelling that browsers (WHATWG URL) and curl read as an IPv4 address. */
    @ParameterizedTest
    @CsvSource({
            "127.0.0.1, 127.0.0.1",
            "2130706433, 127.0.0.1",          // one decimal number
            "0x7f000001, 127.0.0.1",          // one hex number
            "0X7F000001, 127.0.0.1",
            "017700000001, 127.0.0.1",        // one octal number
            "0177.0.0.1, 127.0.0.1",          // octal part
            "0177.0.0.01, 127.0.0.1",
            "0x7f.0.0.1, 127.0.0.1",          // hex part
            "0x7f.0x0.0x0.0x1, 127.0.0.1",
            "127.1, 127.0.0.1",               // a.b: b fills 24 bits
            "127.0.1, 127.0.0.1",             // a.b.c: c fills 16 bits
            "0x7f.1, 127.0.0.1",
            "0177.1, 127.0.0.1",
            "127.0x0.01, 127.0.0.1",          // mixed radixes
            "10.0x10000, 10.1.0.0",
            "127.0.0.1., 127.0.0.1",          // trailing dot
            "0, 0.0.0.0",
            "00, 0.0.0.0",
            "0x0, 0.0.0.0",
            "4294967295, 255.255.255.255",
            "0xffffffff, 255.255.255.255",
            "3232235777, 192.168.1.1",
            "169.254.43518, 169.254.169.254", // the metadata address, short form
            "0xA9FEA9FE, 169.254.169.254",
            "0127.0.0.1, 87.0.0.1",           // a leading zero means octal: 0127 is 87
            "000000000000000000127.0.0.1, 87.0.0.1",
    })
    void ipv4Spellings(String host, String expected) {
        assertThat(ip(host)).isEqualTo(expected);
    }

    @Test
    void ipv4LiteralsAreInet4Addresses() {
        assertThat(((IpLiteral) HostSyntax.parse("2130706433")).address()).isInstanceOf(Inet4Address.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "256.1.1.1",          // a non-last part over 255
            "1.2.3.256",          // the last part over 8 bits
            "1.2.65536",          // over 16 bits
            "1.16777216",         // over 24 bits
            "4294967296",         // over 32 bits
            "99999999999999999999999999",
            "1.2.3.4.5",          // five parts
            "1..2.3",             // an empty part
            "foo.123",            // ends in a number, so must be an address; "foo" is not a number
            "example.0x10",
            "08.1.1.1",           // 8 is not an octal digit
            "0x1g.1",
            "0x",                 // hex prefix, no digits: browsers read 0, we refuse as ambiguous
            "0x.0x.0x.0x",
            "1.0x",
    })
    void notValidIpv4ButEndingInANumberIsInvalidNotAName(String host) {
        invalid(host);
    }

    @Test
    void emptyHexReasonSaysWhy() {
        assertThat(invalid("0x")).contains("0x").contains("ambiguous");
    }

    @ParameterizedTest
    @CsvSource({
            "1.2.3.4.example.com, 1.2.3.4.example.com",   // ends in a label, not a number
            "example.com, example.com",
            "EXAMPLE.COM, example.com",
            "Example.Com., example.com",                   // trailing dot removed
            "0xg, 0xg",                                    // not a hex number
            "0x7f.example, 0x7f.example",
            "123abc, 123abc",
            "a-b_c.example, a-b_c.example",                // '_' is real in host names
            "xn--nxasmq6b.example, xn--nxasmq6b.example",
            "localhost, localhost",                        // a name: the guard judges what it resolves to
    })
    void names(String host, String expected) {
        assertThat(name(host)).isEqualTo(expected);
    }

    @Test
    void internationalNamesBecomePunycode() {
        assertThat(name("bücher.example")).isEqualTo("xn--bcher-kva.example");
        assertThat(name("BÜCHER.example")).isEqualTo("xn--bcher-kva.example");
        assertThat(name("例え.テスト")).isEqualTo("xn--r8jz45g.xn--zckzah");
        // Ideographic full stop is a label separator, as in browsers.
        assertThat(name("bücher。example")).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void fullWidthDigitsAreAnAddressNotAName() {
        // IDNA folds them to ASCII, and then the host ends in a number: browsers go to 127.0.0.1.
        assertThat(ip("１２７.０.０.１")).isEqualTo("127.0.0.1");
        assertThat(ip("１２７。０。０。１")).isEqualTo("127.0.0.1");
    }

    @Test
    void idnaDeviationCharactersAreRefusedWithAReason() {
        assertThat(invalid("faß.example")).contains("punycode");
        assertThat(invalid("σς.example")).contains("punycode");
        assertThat(invalid("a\u200Db.example")).contains("ZWJ");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", ".", "..", ".example.com", "example..com", "example.com..",
            "exa mple.com", "example.com/", "user@example.com", "exa\u0000mple.com", "exa\tmple.com",
            "exa<mple.com", "example.com\\", "exa*mple.com",
    })
    void malformedNames(String host) {
        invalid(host);
    }

    @Test
    void lengthLimits() {
        String label63 = "a".repeat(63);
        assertThat(name(label63 + ".example")).startsWith(label63);
        assertThat(invalid("a".repeat(64) + ".example")).isNotEmpty();
        String name253 = (label63 + ".").repeat(3) + "a".repeat(61);
        assertThat(name253).hasSize(253);
        assertThat(name(name253)).hasSize(253);
        assertThat(invalid(name253 + "a")).contains("253");
        assertThat(invalid("a".repeat(5000))).contains(String.valueOf(HostSyntax.MAX_HOST_LENGTH));
    }

    @Test
    void percentEncodedHostsAreRefused() {
        assertThat(invalid("%31%32%37.0.0.1")).contains("percent");
        assertThat(invalid("ex%61mple.com")).contains("percent");
        // Full-width '%' folds to '%' under IDNA and is then refused as a character.
        invalid("ex\uFF0561mple.com");
    }

    @Test
    void ipv6InAndOutOfBrackets() {
        assertThat(ip("[::1]")).isEqualTo("[::1]");
        assertThat(ip("::1")).isEqualTo("[::1]");
        assertThat(ip("[2001:DB8:0:0:0:0:0:1]")).isEqualTo("[2001:db8::1]");
        assertThat(ip("[fe80::1]")).isEqualTo("[fe80::1]");
        assertThat(ip("[2001:db8:0:0:1:0:0:1]")).isEqualTo("[2001:db8::1:0:0:1]");
        assertThat(ip("[::]")).isEqualTo("[::]");
        assertThat(((IpLiteral) HostSyntax.parse("[2001:db8::1]")).address()).isInstanceOf(Inet6Address.class);
    }

    @Test
    void ipv4MappedIpv6IsTheIpv4Address() {
        assertThat(ip("[::ffff:127.0.0.1]")).isEqualTo("127.0.0.1");
        assertThat(ip("[::ffff:7f00:1]")).isEqualTo("127.0.0.1");
        assertThat(ip("[0:0:0:0:0:ffff:a9fe:a9fe]")).isEqualTo("169.254.169.254");
    }

    @Test
    void ipv6ZonesAndJunkAreRefused() {
        assertThat(invalid("[fe80::1%eth0]")).contains("zone");
        assertThat(invalid("[fe80::1%25eth0]")).contains("zone");
        invalid("[::1");
        invalid("[]");
        invalid("[1.2.3.4]");
        invalid("[::g]");
        invalid("[1:2:3:4:5:6:7:8:9]");
        invalid("[::1]x");
        invalid("[example.com]");
    }

    @Test
    void authorities() {
        Authority a = HostSyntax.parseAuthority("example.com:443", -1);
        assertThat(a.host()).isEqualTo(new DomainName("example.com"));
        assertThat(a.port()).isEqualTo(443);
        a = HostSyntax.parseAuthority("[::1]:8443", -1);
        assertThat(((IpLiteral) a.host()).text()).isEqualTo("[::1]");
        assertThat(a.port()).isEqualTo(8443);
        a = HostSyntax.parseAuthority("0x7f.1:80", -1);
        assertThat(((IpLiteral) a.host()).text()).isEqualTo("127.0.0.1");
        assertThat(HostSyntax.parseAuthority("example.com", 80).port()).isEqualTo(80);
        assertThat(HostSyntax.parseAuthority("example.com:", 80).port()).isEqualTo(80);
        assertThat(HostSyntax.parseAuthority("[::1]", 80).port()).isEqualTo(80);
        assertThat(HostSyntax.parseAuthority("EXAMPLE.com.:8080", 80).host()).isEqualTo(new DomainName("example.com"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "example.com", "example.com:", "example.com:0", "example.com:65536", "example.com:+80", "example.com:8o",
            "example.com:123456", "::1:443", "[::1", "[::1]443", "user@example.com:443", "user:pw@example.com:443", "",
    })
    void badAuthoritiesForConnect(String authority) {
        Authority a = HostSyntax.parseAuthority(authority, -1);
        assertThat(a.host()).as(authority).isInstanceOf(Invalid.class);
    }

    @Test
    void reasonsNeverEchoTheInput() {
        String evil = "<script>.123";
        assertThat(invalid(evil)).doesNotContain("<script>");
        assertThat(((Invalid) HostSyntax.parseAuthority("example.com:<b>", -1).host()).why()).doesNotContain("<b>");
    }

    @Test
    void domainNameRecordRefusesUnnormalisedNames() {
        assertThatThrownBy(() -> new DomainName("Example.com")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DomainName("example.com.")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DomainName("")).isInstanceOf(IllegalArgumentException.class);
        assertThat(new DomainName("example.com").name()).isEqualTo("example.com");
    }
}
