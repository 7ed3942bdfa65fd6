package dev.portcullis.http.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {
    private static boolean in(String cidr, String address) throws Exception {
        return Cidr.parse(cidr).contains(InetAddress.getByName(address).getAddress());
    }

    @Test
    void ipv4Blocks() throws Exception {
        assertThat(in("10.0.0.0/8", "10.255.1.2")).isTrue();
        assertThat(in("10.0.0.0/8", "11.0.0.0")).isFalse();
        assertThat(in("192.168.1.0/24", "192.168.1.255")).isTrue();
        assertThat(in("192.168.1.0/24", "192.168.2.0")).isFalse();
        assertThat(in("172.16.0.0/12", "172.31.255.255")).isTrue();
        assertThat(in("172.16.0.0/12", "172.32.0.0")).isFalse();
        assertThat(in("172.16.0.0/12", "172.15.255.255")).isFalse();
    }

    @Test
    void prefixZeroMatchesEveryAddressOfItsFamily() throws Exception {
        assertThat(in("0.0.0.0/0", "1.2.3.4")).isTrue();
        assertThat(in("0.0.0.0/0", "255.255.255.255")).isTrue();
        assertThat(in("::/0", "2001:db8::1")).isTrue();
        assertThat(in("::/0", "1.2.3.4")).isFalse();
    }

    @Test
    void fullLengthPrefixesAndBareAddresses() throws Exception {
        assertThat(in("10.1.2.3/32", "10.1.2.3")).isTrue();
        assertThat(in("10.1.2.3/32", "10.1.2.4")).isFalse();
        assertThat(in("10.1.2.3", "10.1.2.3")).isTrue();
        assertThat(in("10.1.2.3", "10.1.2.2")).isFalse();
        assertThat(Cidr.parse("10.1.2.3").prefixLength()).isEqualTo(32);
        assertThat(in("2001:db8::1/128", "2001:db8::1")).isTrue();
        assertThat(in("2001:db8::1/128", "2001:db8::2")).isFalse();
        assertThat(in("::1", "::1")).isTrue();
        assertThat(Cidr.parse("::1").prefixLength()).isEqualTo(128);
    }

    @Test
    void ipv6Blocks() throws Exception {
        assertThat(in("2001:db8::/32", "2001:db8:ffff::1")).isTrue();
        assertThat(in("2001:db8::/32", "2001:db9::1")).isFalse();
        assertThat(in("fd00::/8", "fdff::1")).isTrue();
        assertThat(in("fd00::/8", "fe00::1")).isFalse();
        assertThat(in("2001:db8::/33", "2001:db8:7fff::1")).isTrue();
        assertThat(in("2001:db8::/33", "2001:db8:8000::1")).isFalse();
        assertThat(in("2001:db8::/32", "32.1.13.184")).isFalse();
    }

    @Test
    void v4MappedClientsMatchV4Blocks() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 10;
        mapped[13] = 1;
        mapped[14] = 2;
        mapped[15] = 3;
        assertThat(Cidr.parse("10.0.0.0/8").contains(mapped)).isTrue();
        assertThat(Cidr.parse("10.1.2.3").contains(mapped)).isTrue();
        assertThat(Cidr.parse("11.0.0.0/8").contains(mapped)).isFalse();
        // a v4-compatible-looking address that is not ::ffff:0:0/96 is not treated as IPv4
        byte[] notMapped = mapped.clone();
        notMapped[10] = 0;
        assertThat(Cidr.parse("10.0.0.0/8").contains(notMapped)).isFalse();
    }

    @Test
    void refusesHostNamesAndBadPrefixes() {
        assertThatThrownBy(() -> Cidr.parse("localhost")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("example.com/8")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0/8")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("::/129")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("300.0.0.1")).isInstanceOf(IllegalArgumentException.class);
    }
}
