package dev.portcullis.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.auth.Htpasswd.InvalidFileException;
import dev.portcullis.auth.Htpasswd.Outcome;
import dev.portcullis.auth.Htpasswd.Problem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtpasswdTest {

    @TempDir
    Path dir;

    private Path write(String name, String... lines) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    private static String bcrypt(String version, String password, int cost) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return OpenBSDBCrypt.generate(version, password.getBytes(StandardCharsets.UTF_8), salt, cost);
    }

    private static String sha(String password) throws Exception {
        return "{SHA}" + Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-1").digest(password.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void knownVectorsFromTheApacheDocsAndOpenssl() throws Exception {
        // Apache httpd "Password Formats" page, all for "myPassword"; the crypt forms from `openssl passwd`.
        Htpasswd h = Htpasswd.load(write("known.htpasswd",
                "bc:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC",
                "apr:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/",
                "sha:{SHA}VBPuJHI7uixaa6LQGWx4s+5GKNE=",
                "md5:$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/",
                "s256:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
                "s512:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"));
        assertThat(h.userCount()).isEqualTo(6);
        for (String user : List.of("bc", "apr", "sha")) {
            assertThat(h.check(user, "myPassword")).as(user).isEqualTo(Outcome.OK);
            assertThat(h.check(user, "mypassword")).as(user).isEqualTo(Outcome.WRONG_PASSWORD);
        }
        assertThat(h.verify("md5", "password")).isTrue();
        assertThat(h.verify("s256", "Hello world!")).isTrue();
        assertThat(h.verify("s512", "Hello world!")).isTrue();
        assertThat(h.verify("s512", "Hello world")).isFalse();
    }

    @Test
    void everyHashTypeMadeByTheLibraries() throws Exception {
        String pw = "pässwörd with spaces: and colons";
        // commons-codec zeroes the key array it is given: a fresh copy for each hash.
        java.util.function.Supplier<byte[]> b = () -> pw.getBytes(StandardCharsets.UTF_8);
        Path f = write("gen.htpasswd",
                "y:" + bcrypt("2y", pw, 4),
                "a:" + bcrypt("2a", pw, 4),
                "b:" + bcrypt("2b", pw, 5),
                "apr:" + Md5Crypt.apr1Crypt(b.get()),
                "md5:" + Md5Crypt.md5Crypt(b.get()),
                "s256:" + Sha2Crypt.sha256Crypt(b.get()),
                "s512:" + Sha2Crypt.sha512Crypt(b.get(), "$6$rounds=5000$abcdefgh"),
                "sha:" + sha(pw));
        // No verification cache: every check below runs the hash.
        Htpasswd h = Htpasswd.load(f, "gen.htpasswd", Duration.ZERO, 0);
        for (String user : List.of("y", "a", "b", "apr", "md5", "s256", "s512", "sha")) {
            assertThat(h.check(user, pw)).as(user).isEqualTo(Outcome.OK);
            assertThat(h.check(user, pw)).as(user + ", again: the libraries must not spoil the next check")
                    .isEqualTo(Outcome.OK);
            assertThat(h.check(user, pw + "x")).as(user).isEqualTo(Outcome.WRONG_PASSWORD);
            assertThat(h.check(user, "")).as(user).isEqualTo(Outcome.WRONG_PASSWORD);
        }
    }

    @Test
    void bcryptReadsOnlyTheFirst72Bytes() throws Exception {
        String long72 = "x".repeat(72);
        Htpasswd h = Htpasswd.load(write("long.htpasswd", "u:" + bcrypt("2y", long72, 4)));
        // As in every bcrypt (Apache's included): documented, not a surprise.
        assertThat(h.verify("u", long72 + "anything")).isTrue();
        assertThat(h.verify("u", "x".repeat(71))).isFalse();
    }

    @Test
    void unknownUsersRunTheDummyHash() throws Exception {
        Htpasswd h = Htpasswd.load(write("u.htpasswd", "alice:" + bcrypt("2y", "secret", 4)));
        assertThat(h.dummyChecks()).isZero();
        assertThat(h.check("mallory", "secret")).isEqualTo(Outcome.UNKNOWN_USER);
        assertThat(h.check("ALICE", "secret")).isEqualTo(Outcome.UNKNOWN_USER);   // user names are case-sensitive
        assertThat(h.dummyChecks()).isEqualTo(2);
        assertThat(h.check("alice", "wrong")).isEqualTo(Outcome.WRONG_PASSWORD);
        assertThat(h.dummyChecks()).isEqualTo(2);
    }

    @Test
    void theDummyIsOfTheFilesMostCommonKind() throws Exception {
        Htpasswd h = Htpasswd.load(write("mixed.htpasswd",
                "old:" + sha("x"),
                "a:" + bcrypt("2y", "x", 5),
                "b:" + bcrypt("2y", "x", 4),
                "c:" + bcrypt("2y", "x", 5),
                "d:" + Md5Crypt.apr1Crypt("x")));
        assertThat(h.dummyKind()).isEqualTo("bcrypt:05");
        assertThat(Htpasswd.load(write("s.htpasswd", "s:" + Sha2Crypt.sha512Crypt("x".getBytes(StandardCharsets.UTF_8),
                "$6$rounds=6000$abcd"))).dummyKind()).isEqualTo("$6:rounds=6000");
        assertThat(Htpasswd.load(write("e.htpasswd", "")).dummyKind()).isEqualTo("bcrypt:05");
    }

    @Test
    void aFileWithNoUsersRefusesEveryoneAndStillRunsTheDummy() throws Exception {
        Htpasswd h = Htpasswd.load(write("empty.htpasswd", "# nobody yet", ""));
        assertThat(h.userCount()).isZero();
        assertThat(h.check("anyone", "x")).isEqualTo(Outcome.UNKNOWN_USER);
        assertThat(h.dummyChecks()).isEqualTo(1);
    }

    @Test
    void commentsBlankLinesAndCrlf() throws Exception {
        Path f = dir.resolve("crlf.htpasswd");
        Files.writeString(f, "# users\r\n\r\n  bob:" + sha("pw") + "  \r\n");
        assertThat(Htpasswd.load(f).verify("bob", "pw")).isTrue();
    }

    @Test
    void refusedHashesNameTheFileAndLine() throws Exception {
        Path f = write("bad.htpasswd",
                "ok:" + sha("pw"),
                "des:rqXexS6ZhobKA",
                "plain:myPassword",
                "x2:$2x$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC",
                "cost:$2y$03$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC",
                "short:$2y$05$c4WoMPo3SXsafkva",
                "badsha:{SHA}notbase64!",
                "ok:" + sha("again"),
                "nocolon",
                ":" + sha("pw"),
                "argon:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA");
        assertThatThrownBy(() -> Htpasswd.load(f, "conf/bad.htpasswd", Htpasswd.DEFAULT_CACHE_TTL, 10))
                .isInstanceOfSatisfying(InvalidFileException.class, e -> {
                    List<Problem> p = e.problems();
                    assertThat(p).extracting(Problem::line).containsExactly(2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
                    assertThat(p).extracting(Problem::file).containsOnly("conf/bad.htpasswd");
                    assertThat(p.get(0).message()).contains("des").contains("DES").contains("8 characters");
                    assertThat(p.get(1).message()).contains("plain-text");
                    assertThat(p.get(2).message()).contains("$2x$");
                    assertThat(p.get(3).message()).contains("cost 3");
                    assertThat(p.get(6).message()).contains("user 'ok' again (first on line 1)");
                    assertThat(p.get(7).message()).contains("user:hash");
                    assertThat(p.get(8).message()).contains("empty user");
                    assertThat(p.get(9).message()).contains("unsupported");
                    // Never the hash itself (a secret), nor the plain-text password.
                    assertThat(e.getMessage()).doesNotContain("rqXexS6ZhobKA").doesNotContain("myPassword")
                            .startsWith("conf/bad.htpasswd:2: user 'des'");
                });
    }

    @Test
    void unreadableAndNonUtf8Files() throws Exception {
        assertThatThrownBy(() -> Htpasswd.load(dir.resolve("missing")))
                .isInstanceOf(InvalidFileException.class).hasMessageContaining("missing").hasMessageContaining("NoSuchFile");
        Path latin = dir.resolve("latin1.htpasswd");
        Files.write(latin, ("ok:" + sha("x") + "\nj\u00fcrgen:" + sha("x") + "\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> Htpasswd.load(latin))
                .isInstanceOf(InvalidFileException.class).hasMessageContaining("latin1.htpasswd:2: not UTF-8");
        Path utf8 = write("utf8.htpasswd", "jürgen:" + sha("x"));
        assertThat(Htpasswd.load(utf8).verify("jürgen", "x")).isTrue();
    }

    @Test
    void successesAreCachedFailuresAreNot() throws Exception {
        Htpasswd h = Htpasswd.load(write("c.htpasswd", "alice:" + bcrypt("2y", "secret", 4)));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            AtomicInteger ran = new AtomicInteger();
            var counting = (java.util.concurrent.Executor) r -> {
                ran.incrementAndGet();
                pool.execute(r);
            };
            assertThat(h.verify("alice", "secret", counting).get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).hasValue(1);
            // Cached: answered without the executor.
            assertThat(h.verify("alice", "secret", counting).get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).hasValue(1);
            // A wrong password is never cached and always pays the hash.
            assertThat(h.checkAsync("alice", "nope", counting).get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.WRONG_PASSWORD);
            assertThat(h.checkAsync("alice", "nope", counting).get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.WRONG_PASSWORD);
            assertThat(ran).hasValue(3);
            assertThat(h.checkAsync("bob", "secret", counting).get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.UNKNOWN_USER);
            assertThat(ran).hasValue(4);
            h.invalidateCache();
            assertThat(h.verify("alice", "secret", counting).get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).hasValue(5);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aReloadedFileStartsWithAnEmptyCache() throws Exception {
        Path f = write("r.htpasswd", "alice:" + bcrypt("2y", "old", 4));
        Htpasswd before = Htpasswd.load(f);
        assertThat(before.verify("alice", "old")).isTrue();
        write("r.htpasswd", "alice:" + bcrypt("2y", "new", 4));
        Htpasswd after = Htpasswd.load(f);
        assertThat(after.verify("alice", "old")).isFalse();
        assertThat(after.verify("alice", "new")).isTrue();
    }

    @Test
    void cacheCanBeTurnedOff() throws Exception {
        Htpasswd h = Htpasswd.load(write("n.htpasswd", "alice:" + sha("secret")), "n.htpasswd", Duration.ZERO, 0);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            assertThat(h.verify("alice", "secret", r -> {
                ran.incrementAndGet();
                r.run();
            }).join()).isTrue();
        }
        assertThat(ran).hasValue(3);
    }

    @Test
    void aRejectingExecutorFailsTheFuture() throws Exception {
        Htpasswd h = Htpasswd.load(write("x.htpasswd", "alice:" + sha("secret")));
        var f = h.verify("alice", "secret", r -> {
            throw new RejectedExecutionException("queue full");
        });
        assertThat(f).isCompletedExceptionally();
        assertThat(h.verify("alice", "secret")).isTrue();   // still serving
    }

    @Test
    void toStringNeverShowsHashes() throws Exception {
        String hash = bcrypt("2y", "secret", 4);
        Htpasswd h = Htpasswd.load(write("t.htpasswd", "alice:" + hash));
        assertThat(h.toString()).doesNotContain(hash);
        assertThat(h.source()).endsWith("t.htpasswd");
    }
}
