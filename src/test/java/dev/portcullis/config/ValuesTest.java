package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ValuesTest {

    @Test
    void durations() {
        assertThat(Values.duration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Values.duration("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Values.duration("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(Values.duration("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Values.duration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Values.duration("0")).isEqualTo(Duration.ZERO);
        assertThat(Values.duration("0s")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> Values.duration("5")).hasMessageContaining("invalid duration '5' (a number needs a unit)");
        assertThatThrownBy(() -> Values.duration("1.5s")).hasMessageStartingWith("invalid duration '1.5s'");
        assertThatThrownBy(() -> Values.duration("5 sec")).hasMessageStartingWith("invalid duration '5 sec'");
        assertThatThrownBy(() -> Values.duration("-1s")).hasMessageStartingWith("invalid duration '-1s'");
    }

    @Test
    void sizes() {
        assertThat(Values.size("512")).isEqualTo(512);
        assertThat(Values.size("512B")).isEqualTo(512);
        assertThat(Values.size("64KiB")).isEqualTo(64 * 1024);
        assertThat(Values.size("16MiB")).isEqualTo(16L << 20);
        assertThat(Values.size("1GiB")).isEqualTo(1L << 30);
        assertThat(Values.size("8k")).isEqualTo(8192);
        assertThat(Values.size("8K")).isEqualTo(8192);
        assertThat(Values.size("8KB")).isEqualTo(8192);
        assertThat(Values.size("2M")).isEqualTo(2L << 20);
        assertThat(Values.size("2MB")).isEqualTo(2L << 20);
        assertThat(Values.size("1G")).isEqualTo(1L << 30);
        assertThat(Values.size("1GB")).isEqualTo(1L << 30);
        assertThat(Values.size("64 KiB")).isEqualTo(64 * 1024);
        assertThatThrownBy(() -> Values.size("12TiB")).hasMessageStartingWith("invalid size '12TiB'; expected bytes");
        assertThatThrownBy(() -> Values.size("lots")).hasMessageStartingWith("invalid size 'lots'");
        assertThatThrownBy(() -> Values.size("99999999999GiB")).hasMessage("size '99999999999GiB' is too large");
    }

    @Test
    void booleans() {
        for (String t : new String[] {"true", "True", "yes", "on", "ON"}) {
            assertThat(Values.bool(t)).as(t).isTrue();
        }
        for (String f : new String[] {"false", "no", "off", "Off", "NO"}) {
            assertThat(Values.bool(f)).as(f).isFalse();
        }
        assertThatThrownBy(() -> Values.bool("maybe"))
                .hasMessage("invalid boolean 'maybe'; expected true or false (also yes/no, on/off)");
    }

    @Test
    void ratesAndPercentages() {
        assertThat(Values.rate("100/s")).isEqualTo(new Values.Rate(100, Duration.ofSeconds(1)));
        assertThat(Values.rate("6000/m").perSecond()).isEqualTo(100.0);
        assertThat(Values.rate("1000000/d").per()).isEqualTo(Duration.ofDays(1));
        assertThatThrownBy(() -> Values.rate("100")).hasMessageStartingWith("invalid rate '100'");
        assertThatThrownBy(() -> Values.rate("0/s")).hasMessage("rate '0/s' must be above zero");
        assertThat(Values.percent("20%")).isEqualTo(20.0);
        assertThat(Values.percent("0.5%")).isEqualTo(0.5);
        assertThatThrownBy(() -> Values.percent("120%")).hasMessage("percentage '120%' is over 100%");
        assertThatThrownBy(() -> Values.percent("20")).hasMessageStartingWith("invalid percentage '20'");
    }

    @Test
    void addresses() {
        assertThat(Addresses.hostPort("127.0.0.1:8080", false)).isEqualTo(new HostPort("127.0.0.1", 8080));
        assertThat(Addresses.hostPort("[::1]:8080", false)).isEqualTo(new HostPort("::1", 8080));
        assertThat(Addresses.hostPort("[::1]:8080", false).toString()).isEqualTo("[::1]:8080");
        assertThat(Addresses.hostPort("0.0.0.0:80", false)).isEqualTo(new HostPort("0.0.0.0", 80));
        assertThat(Addresses.hostPort("api.internal:8080", false)).isEqualTo(new HostPort("api.internal", 8080));
        assertThat(Addresses.hostPort("127.0.0.1:0", true).port()).isZero();
        assertThatThrownBy(() -> Addresses.hostPort("127.0.0.1:0", false))
                .hasMessage("invalid port '0' in '127.0.0.1:0'; expected 1..65535");
        assertThatThrownBy(() -> Addresses.hostPort("127.0.0.1:65536", true))
                .hasMessage("invalid port '65536' in '127.0.0.1:65536'; expected 0..65535 (0: any free port)");
        assertThatThrownBy(() -> Addresses.hostPort("127.0.0.1", false))
                .hasMessage("missing port in '127.0.0.1'; expected host:port such as 127.0.0.1:8080");
        assertThatThrownBy(() -> Addresses.hostPort("::1:8080", false))
                .hasMessage("invalid address '::1:8080'; an IPv6 address needs brackets, such as [::1]:8080");
        assertThatThrownBy(() -> Addresses.hostPort("300.1.1.1:80", false))
                .hasMessage("invalid IPv4 address '300.1.1.1' in '300.1.1.1:80'");
        assertThatThrownBy(() -> Addresses.hostPort("[zz]:80", false)).hasMessage("invalid IPv6 address 'zz' in '[zz]:80'");
        assertThatThrownBy(() -> Addresses.hostPort("bad host:80", false)).hasMessage("invalid host name 'bad host' in 'bad host:80'");
    }

    @Test
    void cidrs() {
        assertThat(Addresses.cidr("10.0.0.0/8")).isEqualTo("10.0.0.0/8");
        assertThat(Addresses.cidr("10.1.2.3")).isEqualTo("10.1.2.3/32");
        assertThat(Addresses.cidr("::1")).isEqualTo("::1/128");
        assertThat(Addresses.cidr("fd00::/8")).isEqualTo("fd00::/8");
        assertThatThrownBy(() -> Addresses.cidr("10.0.0.0/33")).hasMessage("invalid prefix length '33' in '10.0.0.0/33'; expected 0..32");
        assertThatThrownBy(() -> Addresses.cidr("example.com")).hasMessageStartingWith("invalid address 'example.com'; expected an IP literal");
        assertThatThrownBy(() -> Addresses.cidr("10.0.0/8")).hasMessageStartingWith("invalid address '10.0.0/8'");
    }

    @Test
    void bindOverlap() {
        HostPort any = new HostPort("0.0.0.0", 8080);
        HostPort local = new HostPort("127.0.0.1", 8080);
        assertThat(Addresses.overlap(any, local)).isTrue();
        assertThat(Addresses.overlap(local, new HostPort("127.0.0.1", 8081))).isFalse();
        assertThat(Addresses.overlap(local, new HostPort("127.0.0.2", 8080))).isFalse();
        assertThat(Addresses.overlap(new HostPort("::", 80), new HostPort("::1", 80))).isTrue();
        assertThat(Addresses.overlap(new HostPort("127.0.0.1", 0), new HostPort("127.0.0.1", 0))).isFalse();
    }

    @Test
    void didYouMean() {
        assertThat(DidYouMean.closest("pathprefix", java.util.List.of("path", "path_prefix", "path_regex"))).isEqualTo("path_prefix");
        assertThat(DidYouMean.closest("zzzzzzzz", java.util.List.of("path"))).isNull();
        assertThat(DidYouMean.distance("kitten", "sitting")).isEqualTo(3);
    }
}
