package dev.portcullis.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.forward.DomainRules.Decision;
import dev.portcullis.forward.DomainRules.InvalidRulesException;
import dev.portcullis.forward.DomainRules.Problem;
import java.io.BufferedWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DomainRulesTest {

    @TempDir
    Path dir;

    private static Decision check(DomainRules rules, String host) {
        return rules.check(HostSyntax.parse(host));
    }

    private static DomainRules rules(List<String> allow, List<String> deny) {
        return DomainRules.compile(allow, deny, Path.of("."));
    }

    @Test
    void emptyListsAllowEverything() {
        assertThat(check(DomainRules.allowAll(), "example.com")).isEqualTo(new Decision(true, null, null));
        DomainRules none = rules(List.of(), List.of());
        assertThat(check(none, "example.com").allowed()).isTrue();
        assertThat(check(none, "127.0.0.1").allowed()).isTrue();
        assertThat(none.size()).isZero();
    }

    @Test
    void exactNamesMatchOnlyThemselves() {
        DomainRules r = rules(List.of(), List.of("ads.example.com"));
        assertThat(check(r, "ads.example.com")).isEqualTo(new Decision(false, "deny_domains", "ads.example.com"));
        assertThat(check(r, "ADS.Example.COM.").allowed()).isFalse();
        assertThat(check(r, "x.ads.example.com").allowed()).isTrue();
        assertThat(check(r, "example.com").allowed()).isTrue();
        assertThat(check(r, "bads.example.com").allowed()).isTrue();
    }

    @Test
    void starWildcardMatchesSubdomainsButNotTheApex() {
        DomainRules r = rules(List.of(), List.of("*.doubleclick.net"));
        assertThat(check(r, "ad.doubleclick.net")).isEqualTo(new Decision(false, "deny_domains", "*.doubleclick.net"));
        assertThat(check(r, "a.b.c.doubleclick.net").allowed()).isFalse();
        assertThat(check(r, "doubleclick.net").allowed()).isTrue();
        assertThat(check(r, "notdoubleclick.net").allowed()).isTrue();
        assertThat(check(r, "doubleclick.net.evil.com").allowed()).isTrue();
    }

    @Test
    void squidDotFormMatchesTheApexAndSubdomains() {
        DomainRules r = rules(List.of(), List.of(".tracker.example"));
        assertThat(check(r, "tracker.example")).isEqualTo(new Decision(false, "deny_domains", ".tracker.example"));
        assertThat(check(r, "a.tracker.example").allowed()).isFalse();
        assertThat(check(r, "xtracker.example").allowed()).isTrue();
    }

    @Test
    void wildcardsOnTopLevelDomains() {
        DomainRules r = rules(List.of(), List.of("*.zip"));
        assertThat(check(r, "download.zip").allowed()).isFalse();
        assertThat(check(r, "zip").allowed()).isTrue();
    }

    @Test
    void denyWinsOverAllow() {
        DomainRules r = rules(List.of("*.example.com", "example.com"), List.of("evil.example.com"));
        assertThat(check(r, "www.example.com")).isEqualTo(new Decision(true, "allow_domains", "*.example.com"));
        assertThat(check(r, "example.com")).isEqualTo(new Decision(true, "allow_domains", "example.com"));
        assertThat(check(r, "evil.example.com")).isEqualTo(new Decision(false, "deny_domains", "evil.example.com"));
        assertThat(check(r, "other.org")).isEqualTo(new Decision(false, "allow_domains", null));
        assertThat(check(r, "other.org").reason()).isEqualTo("not in allow_domains");
        assertThat(check(r, "evil.example.com").reason()).isEqualTo("denied by deny_domains rule evil.example.com");
    }

    @Test
    void theMostSpecificEntryIsReported() {
        DomainRules r = rules(List.of(), List.of("*.example.com", "*.ads.example.com", "x.ads.example.com"));
        assertThat(check(r, "x.ads.example.com").rule()).isEqualTo("x.ads.example.com");
        assertThat(check(r, "y.ads.example.com").rule()).isEqualTo("*.ads.example.com");
        assertThat(check(r, "www.example.com").rule()).isEqualTo("*.example.com");
    }

    @Test
    void aNonEmptyAllowListRefusesIpLiteralsItDoesNotName() throws Exception {
        DomainRules r = rules(List.of("example.com", "192.0.2.7", "[2001:db8::1]"), List.of());
        assertThat(check(r, "93.184.215.14").allowed()).isFalse();
        assertThat(check(r, "192.0.2.7")).isEqualTo(new Decision(true, "allow_domains", "192.0.2.7"));
        // Any spelling of the address is the address.
        assertThat(check(r, "3221225991").allowed()).isTrue();
        assertThat(check(r, "[2001:0db8:0:0::1]").allowed()).isTrue();
        assertThat(r.check(InetAddress.getByName("192.0.2.7")).allowed()).isTrue();
        assertThat(r.check(InetAddress.getByName("192.0.2.8")).allowed()).isFalse();
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7};
        assertThat(r.check(java.net.Inet6Address.getByAddress(null, mapped, -1)).allowed()).isTrue();
    }

    @Test
    void denyListsNameAddressesToo() {
        DomainRules r = rules(List.of(), List.of("203.0.113.9"));
        assertThat(check(r, "0xcb007109").allowed()).isFalse();
        assertThat(check(r, "203.0.113.10").allowed()).isTrue();
    }

    @Test
    void internationalEntriesAreNormalised() {
        DomainRules r = rules(List.of(), List.of("*.BÜCHER.example", "Shop.Example.COM."));
        assertThat(check(r, "www.xn--bcher-kva.example").allowed()).isFalse();
        assertThat(check(r, "www.bücher.example").allowed()).isFalse();
        assertThat(check(r, "shop.example.com").allowed()).isFalse();
    }

    @Test
    void checkingAnInvalidHostIsAProgrammingError() {
        assertThatThrownBy(() -> check(DomainRules.allowAll(), "a..b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void badInlineEntriesAreAllReportedWithTheirIndex() {
        assertThatThrownBy(() -> rules(List.of(),
                List.of("ok.example", "*", "a.*.example", "*.*.example", "example.com:443", "http://x.example/",
                        "10.0.0.0/8", "*.10.0.0.1", "exa mple.com", "a..b", "*.", "x..y")))
                .isInstanceOfSatisfying(InvalidRulesException.class, e -> {
                    List<Problem> p = e.problems();
                    assertThat(p).extracting(Problem::line).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
                    assertThat(p).allSatisfy(x -> assertThat(x.source()).isNull());
                    assertThat(p.get(0).message()).contains("every host");
                    assertThat(p.get(1).message()).contains("leading '*.'");
                    assertThat(p.get(3).message()).contains("port");
                    assertThat(p.get(4).message()).contains("URLs");
                    assertThat(p.get(6).message()).contains("wildcard needs a domain");
                    assertThat(p.get(7).message()).contains("one name per entry");
                    assertThat(e.getMessage()).startsWith("deny_domains: [1] '*'").contains("and 1 more");
                });
    }

    @Test
    void listFilesWithCommentsBlankLinesAndDuplicates() throws Exception {
        Path f = dir.resolve("ads.txt");
        Files.writeString(f, String.join("\n",
                "# ad servers",
                "",
                "ads.example.com",
                "   *.tracker.example   # trailing comment",
                "\t.pixel.example",
                "ads.example.com",
                "ADS.EXAMPLE.COM.",
                "windows.example\r",
                ""));
        DomainRules r = DomainRules.compile(List.of(), List.of("file:ads.txt"), dir);
        assertThat(check(r, "ads.example.com")).isEqualTo(new Decision(false, "deny_domains", "file:ads.txt:3"));
        assertThat(check(r, "a.tracker.example").rule()).isEqualTo("file:ads.txt:4");
        assertThat(check(r, "pixel.example").rule()).isEqualTo("file:ads.txt:5");
        assertThat(check(r, "windows.example").rule()).isEqualTo("file:ads.txt:8");
        assertThat(check(r, "tracker.example").allowed()).isTrue();
        assertThat(r.size()).isEqualTo(4);
        assertThat(check(r, "a.tracker.example").reason()).isEqualTo("denied by deny_domains rule file:ads.txt:4");
    }

    @Test
    void inlineEntriesAndSeveralFilesTogether() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "a.example\n");
        Files.createDirectories(dir.resolve("lists"));
        Files.writeString(dir.resolve("lists/b.txt"), "b.example\n");
        DomainRules r = DomainRules.compile(List.of("file:a.txt", "*.allowed.example"), List.of("file: lists/b.txt"), dir);
        assertThat(check(r, "a.example").rule()).isEqualTo("file:a.txt:1");
        assertThat(check(r, "x.allowed.example").rule()).isEqualTo("*.allowed.example");
        assertThat(check(r, "b.example")).isEqualTo(new Decision(false, "deny_domains", "file:lists/b.txt:1"));
        assertThat(check(r, "c.example").allowed()).isFalse();
    }

    @Test
    void anEmptyListFileMakesAnEmptyAllowList() throws Exception {
        Files.writeString(dir.resolve("empty.txt"), "# nothing yet\n\n");
        DomainRules r = DomainRules.compile(List.of("file:empty.txt"), List.of(), dir);
        // An allow list with no names is "allow all", like an empty inline list.
        assertThat(check(r, "example.com").allowed()).isTrue();
    }

    @Test
    void errorsInAFileNameTheFileAndLine() throws Exception {
        Files.writeString(dir.resolve("bad.txt"), String.join("\n",
                "good.example", "bad name.example", "a..b", "# fine", "foo.123", "0.0.0.0 hosts.example", "ok.example"));
        assertThatThrownBy(() -> DomainRules.compile(List.of(), List.of("file:bad.txt"), dir))
                .isInstanceOfSatisfying(InvalidRulesException.class, e -> {
                    assertThat(e.problems()).extracting(Problem::source).containsOnly("bad.txt");
                    assertThat(e.problems()).extracting(Problem::line).containsExactly(2, 3, 5, 6);
                    assertThat(e.getMessage()).contains("bad.txt:2: 'bad name.example'").contains("bad.txt:5: 'foo.123'");
                });
    }

    @Test
    void tooManyErrorsAreCounted() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 25; i++) {
            sb.append("bad").append(i).append("..x\n");
        }
        Files.writeString(dir.resolve("worse.txt"), sb);
        assertThatThrownBy(() -> DomainRules.compile(List.of(), List.of("file:worse.txt"), dir))
                .isInstanceOfSatisfying(InvalidRulesException.class, e -> {
                    assertThat(e.problems()).hasSize(DomainRules.MAX_REPORTED);
                    assertThat(e.getMessage()).endsWith("and 15 more");
                });
    }

    @Test
    void missingUnreadableAndBinaryFiles() throws Exception {
        assertThatThrownBy(() -> DomainRules.compile(List.of("file:nope.txt"), List.of(), dir))
                .isInstanceOf(InvalidRulesException.class)
                .hasMessageContaining("allow_domains")
                .hasMessageContaining("nope.txt")
                .hasMessageContaining("NoSuchFileException");
        assertThatThrownBy(() -> DomainRules.compile(List.of("file:"), List.of(), dir))
                .isInstanceOf(InvalidRulesException.class).hasMessageContaining("no path");
        Files.write(dir.resolve("latin1.txt"), "ok.example\nm\u00fcnchen.example\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> DomainRules.compile(List.of(), List.of("file:latin1.txt"), dir))
                .isInstanceOfSatisfying(InvalidRulesException.class, e -> {
                    assertThat(e.problems()).hasSize(1);
                    assertThat(e.problems().get(0).message()).contains("UTF-8");
                    assertThat(e.problems().get(0).source()).isEqualTo("latin1.txt");
                    assertThat(e.problems().get(0).line()).isEqualTo(2);
                });
        Files.writeString(dir.resolve("long.txt"), "a".repeat(DomainRules.MAX_LINE_LENGTH + 1) + "\n");
        assertThatThrownBy(() -> DomainRules.compile(List.of(), List.of("file:long.txt"), dir))
                .isInstanceOf(InvalidRulesException.class).hasMessageContaining("long.txt:1").hasMessageContaining("longer");
    }

    @Test
    void aMillionNamesLoadAndLookUp() throws Exception {
        int n = 1_000_000;
        Path f = dir.resolve("million.txt");
        try (BufferedWriter w = Files.newBufferedWriter(f)) {
            w.write("# a generated list\n");
            for (int i = 0; i < n; i++) {
                // Mixed forms: exact names, star wildcards and Squid dots.
                String name = "host" + Integer.toString(i, 36) + ".d" + (i % 977) + ".example";
                w.write(i % 10 == 0 ? "*." + name : i % 10 == 1 ? "." + name : name);
                w.write('\n');
            }
        }
        long t0 = System.nanoTime();
        DomainRules r = DomainRules.compile(List.of(), List.of("file:million.txt"), dir);
        long loadMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.size()).isEqualTo(n);
        int lookups = 0;
        t0 = System.nanoTime();
        for (int i = 0; i < n; i += 7) {
            String name = "host" + Integer.toString(i, 36) + ".d" + (i % 977) + ".example";
            Decision d = check(r, name);
            int line = i + 2;
            if (i % 10 == 0) {
                assertThat(d.allowed()).as(name).isTrue();                 // *.x does not match x
                assertThat(check(r, "www." + name).rule()).isEqualTo("file:million.txt:" + line);
            } else {
                assertThat(d.rule()).as(name).isEqualTo("file:million.txt:" + line);
            }
            assertThat(check(r, "nothost" + i + ".example").allowed()).isTrue();
            lookups += 2;
        }
        long lookupMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("DomainRules: loaded %d names in %d ms (%d MiB held, file %d MiB); %d lookups in %d ms%n",
                n, loadMs, r.footprintBytes() >> 20, Files.size(f) >> 20, lookups, lookupMs);
        assertThat(r.footprintBytes()).isLessThan(Files.size(f) * 3);
    }
}
