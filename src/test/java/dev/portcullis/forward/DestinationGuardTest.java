package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.forward.DestinationGuard.Denial;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DestinationGuardTest {

    private static final DestinationGuard GUARD = DestinationGuard.denyPrivate(List.of());

    /** A literal, never DNS: the bracketed form for IPv6 makes the JDK parse or throw. */
    private static InetAddress addr(String literal) throws Exception {
        return InetAddress.getByName(literal.indexOf(':') >= 0 ? "[" + literal + "]" : literal);
    }

    /** An IPv6 address kept as 16 bytes even when it is IPv4-mapped (the JDK would turn it into IPv4). */
    private static InetAddress raw6(String literal) throws Exception {
        byte[] b = new byte[16];
        byte[] parsed = addr(literal).getAddress();
        if (parsed.length == 4) {
            b[10] = (byte) 0xff;
            b[11] = (byte) 0xff;
            System.arraycopy(parsed, 0, b, 12, 4);
        } else {
            b = parsed;
        }
        return Inet6Address.getByAddress(null, b, -1);
    }

    private static String rule(String literal) throws Exception {
        return GUARD.check(addr(literal)).map(Denial::rule).orElse(null);
    }

    @ParameterizedTest
    @CsvSource({
            "0.0.0.0, unspecified",
            "0.1.2.3, unspecified",
            "10.0.0.1, private",
            "10.255.255.255, private",
            "100.64.0.1, cgnat",
            "100.127.255.255, cgnat",
            "100.100.100.200, metadata",      // Alibaba Cloud, inside CGNAT
            "127.0.0.1, loopback",
            "127.255.255.254, loopback",
            "169.254.0.1, link-local",
            "169.254.169.254, metadata",
            "169.254.170.2, metadata",        // AWS ECS task metadata
            "169.254.170.23, metadata",
            "172.16.0.1, private",
            "172.31.255.255, private",
            "192.0.0.8, reserved",
            "192.0.2.1, documentation",
            "192.88.99.1, reserved",
            "192.168.0.1, private",
            "198.18.0.1, benchmarking",
            "198.19.255.255, benchmarking",
            "198.51.100.7, documentation",
            "203.0.113.9, documentation",
            "224.0.0.1, multicast",
            "239.255.255.250, multicast",
            "240.0.0.1, reserved",
            "255.255.255.254, reserved",
            "255.255.255.255, broadcast",
    })
    void ipv4Classes(String address, String expected) throws Exception {
        assertThat(rule(address)).as(address).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
            "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
            "192.0.1.1", "192.0.3.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
            "203.0.112.255", "223.255.255.255", "93.184.215.14",
    })
    void publicIpv4IsAllowed(String address) throws Exception {
        assertThat(GUARD.check(addr(address))).as(address).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
            "::, unspecified",
            "::1, loopback",
            "fc00::1, unique-local",
            "fdff:ffff::1, unique-local",
            "fd00:ec2::254, metadata",        // AWS instance metadata over IPv6
            "fd00:ec2::23, metadata",
            "fe80::1, link-local",
            "febf::1, link-local",
            "fec0::1, site-local",
            "ff02::1, multicast",
            "ff0e::1, multicast",
            "2001:db8::1, documentation",
            "3fff::1, documentation",
            "3fff:fff::1, documentation",
            "2001:2::1, benchmarking",
            "2001:10::1, reserved",
            "2001:20::1, reserved",
            "100::1, reserved",
            "64:ff9b:1::1, reserved",
            "5f00::1, reserved",
            "4000::1, reserved",              // outside 2000::/3
            "::1:2:3:4:5, reserved",
            "::ffff:0:7f00:1, reserved",      // IPv4-translated ::ffff:0:0:0/96
    })
    void ipv6Classes(String address, String expected) throws Exception {
        assertThat(rule(address)).as(address).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450::1", "3ffe::1", "2001:db9::1", "3fff:1000::1"})
    void publicIpv6IsAllowed(String address) throws Exception {
        assertThat(GUARD.check(addr(address))).as(address).isEmpty();
    }

    @Test
    void ipv6FormsCarryingIpv4AreJudgedByTheIpv4Address() throws Exception {
        // IPv4-mapped, kept as 16 bytes (as an Inet6Address built from raw bytes is).
        assertThat(GUARD.check(raw6("127.0.0.1")).map(Denial::rule)).contains("loopback");
        assertThat(GUARD.check(raw6("169.254.169.254")).map(Denial::rule)).contains("metadata");
        assertThat(GUARD.check(raw6("10.1.2.3")).map(Denial::rule)).contains("private");
        assertThat(GUARD.check(raw6("8.8.8.8"))).isEmpty();
        // IPv4-compatible (deprecated) ::a.b.c.d
        assertThat(rule("::127.0.0.1")).isEqualTo("loopback");
        assertThat(rule("::10.0.0.1")).isEqualTo("private");
        // NAT64 well-known prefix
        assertThat(rule("64:ff9b::127.0.0.1")).isEqualTo("loopback");
        assertThat(rule("64:ff9b::a9fe:a9fe")).isEqualTo("metadata");
        assertThat(rule("64:ff9b::808:808")).isNull();
        // 6to4
        assertThat(rule("2002:7f00:1::1")).isEqualTo("loopback");
        assertThat(rule("2002:c0a8:101::")).isEqualTo("private");
        assertThat(rule("2002:808:808::1")).isNull();
        // Teredo: the client's address is stored with its bits inverted
        assertThat(rule("2001:0:4136:e378:8000:63bf:80ff:fffe")).isEqualTo("loopback");   // ~7f00:0001
        assertThat(rule("2001:0:4136:e378:8000:63bf:f7f7:f7f7")).isNull();               // 8.8.8.8
    }

    @Test
    void jdkMappedParsingGivesIpv4AndIsJudgedTheSame() throws Exception {
        assertThat(addr("::ffff:127.0.0.1").getAddress()).hasSize(4);
        assertThat(rule("::ffff:127.0.0.1")).isEqualTo("loopback");
    }

    @Test
    void denialDetailSaysWhatWasEmbedded() throws Exception {
        Denial d = GUARD.check(addr("64:ff9b::7f00:1")).orElseThrow();
        assertThat(d.rule()).isEqualTo("loopback");
        assertThat(d.detail()).contains("[64:ff9b::7f00:1]").contains("127.0.0.1");
        assertThat(GUARD.check(addr("10.0.0.1")).orElseThrow().detail()).isEqualTo("10.0.0.1 (private)");
    }

    @Test
    void everyOddSpellingFromHostSyntaxIsCaught() {
        for (String host : List.of("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "0177.0x0.1",
                "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "１２７.０.０.１", "[::1]", "[0:0:0:0:0:0:0:1]",
                "0xA9FEA9FE", "169.254.43518", "0", "[64:ff9b::7f00:1]")) {
            HostSyntax.Host h = HostSyntax.parse(host);
            assertThat(h).as(host).isInstanceOf(HostSyntax.IpLiteral.class);
            assertThat(GUARD.check(((HostSyntax.IpLiteral) h).address())).as(host).isPresent();
        }
    }

    @Test
    void offAllowsEverything() throws Exception {
        assertThat(DestinationGuard.off().enabled()).isFalse();
        assertThat(DestinationGuard.off().check(addr("127.0.0.1"))).isEmpty();
        assertThat(DestinationGuard.off().check(addr("169.254.169.254"))).isEmpty();
    }

    @Test
    void allowPrivateOpensNamedBlocks() throws Exception {
        DestinationGuard g = DestinationGuard.denyPrivate(
                DestinationGuard.parseAllowPrivate(List.of("10.1.0.0/16", "127.0.0.1", "fd12::/16")));
        assertThat(g.check(addr("10.1.2.3"))).isEmpty();
        assertThat(g.check(addr("10.2.0.1")).map(Denial::rule)).contains("private");
        assertThat(g.check(addr("127.0.0.1"))).isEmpty();
        assertThat(g.check(addr("127.0.0.2"))).isPresent();
        assertThat(g.check(addr("fd12::5"))).isEmpty();
        assertThat(g.check(addr("fd13::5"))).isPresent();
        // The embedded IPv4 address of a mapped or NAT64 form is what the allow list is held against.
        assertThat(g.check(raw6("10.1.2.3"))).isEmpty();
        assertThat(g.check(addr("64:ff9b::a01:203"))).isEmpty();
    }

    @Test
    void metadataOpensOnlyForAnExactEntry() throws Exception {
        DestinationGuard broad = DestinationGuard.denyPrivate(
                DestinationGuard.parseAllowPrivate(List.of("169.254.0.0/16", "100.64.0.0/10", "fd00::/8")));
        assertThat(broad.check(addr("169.254.1.1"))).isEmpty();
        assertThat(broad.check(addr("169.254.169.254")).map(Denial::rule)).contains("metadata");
        assertThat(broad.check(addr("100.100.100.200")).map(Denial::rule)).contains("metadata");
        assertThat(broad.check(addr("fd00:ec2::254")).map(Denial::rule)).contains("metadata");
        assertThat(broad.check(raw6("169.254.169.254")).map(Denial::rule)).contains("metadata");
        DestinationGuard exact = DestinationGuard.denyPrivate(
                DestinationGuard.parseAllowPrivate(List.of("169.254.169.254/32", "fd00:ec2::254")));
        assertThat(exact.check(addr("169.254.169.254"))).isEmpty();
        assertThat(exact.check(addr("fd00:ec2::254"))).isEmpty();
        assertThat(exact.check(addr("169.254.170.2"))).isPresent();
    }

    @Test
    void badAllowPrivateEntriesNameThemselves() {
        assertThatThrownBy(() -> DestinationGuard.parseAllowPrivate(List.of("10.0.0.0/33")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0.0/33");
        assertThatThrownBy(() -> DestinationGuard.parseAllowPrivate(List.of("intranet.example")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intranet.example");
    }

    @Test
    void classifyIsTheRuleWithoutAnAllowList() throws Exception {
        assertThat(DestinationGuard.classify(addr("192.168.1.1"))).isEqualTo("private");
        assertThat(DestinationGuard.classify(addr("1.1.1.1"))).isNull();
        assertThat(DestinationGuard.denyPrivate(DestinationGuard.parseAllowPrivate(List.of("192.168.0.0/16")))
                .check(addr("192.168.1.1"))).isEqualTo(Optional.empty());
    }
}
