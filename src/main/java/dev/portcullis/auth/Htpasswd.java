package dev.portcullis.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * An Apache htpasswd file ({@code user:hash} per line) and password checks against it.
 *
 * <p>Hashes read: bcrypt ({@code $2y$}, {@code $2a$}, {@code $2b$}, cost 4 to 17 as Apache's
 * {@code htpasswd -B -C} makes them), apr1 ({@code $apr1$}, Apache's MD5), {@code {SHA}} (base64
 * SHA-1, unsalted), and the glibc crypt forms {@code $1$} (MD5), {@code $5$} (SHA-256) and
 * {@code $6$} (SHA-512) that {@code openssl passwd} writes for nginx. Refused at load, naming the
 * line: crypt(3) DES (only 8 characters of a password count), bcrypt {@code $2x$}, plain text and
 * anything else. A file with any such line is refused whole.
 *
 * <p>Checks take the same time for an unknown user as for a known one: the password is checked
 * against a real hash (one of the file's most common kind, scheme and cost) and the answer
 * thrown away, so response time does not tell which user names exist.
 *
 * <p>bcrypt costs tens of milliseconds by design. Successful checks are remembered for a short
 * time (default 5 minutes, 10,000 pairs) so a keep-alive client that sends its credentials with
 * every request pays it once; the key is an HMAC of user and password under a key made at start,
 * so the cache holds nothing that would help recover a password. Failures are never remembered:
 * each wrong guess costs the full hash. A changed file is a new instance with an empty cache.
 *
 * <p>{@link #check} is CPU-bound and must not run on an event loop; {@link #verify(String,
 * String, Executor)} runs it on the given executor unless the answer is already cached.
 */
public final class Htpasswd {

    public static final Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(5);
    public static final int DEFAULT_CACHE_SIZE = 10_000;
    /** Bounded memory: refused above these. */
    public static final long MAX_FILE_BYTES = 64L << 20;
    public static final int MAX_LINE_LENGTH = 4096;
    static final int MAX_REPORTED = 10;

    /** The outcome of a check, for logs and metrics (clients only ever see 407). */
    public enum Outcome { OK, WRONG_PASSWORD, UNKNOWN_USER }

    /** One bad line; never carries the hash itself. */
    public record Problem(String file, int line, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    public static final class InvalidFileException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient List<Problem> problems;

        InvalidFileException(List<Problem> problems, int total) {
            super(dev.portcullis.config.ProblemList.describe(problems, total));
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private final String source;
    private final Map<String, Hash> users;
    private final Hash dummy;
    private final Cache<String, Boolean> verified;
    private final byte[] cacheKeySecret;
    private final LongAdder dummyChecks = new LongAdder();

    private Htpasswd(String source, Map<String, Hash> users, Hash dummy, Duration ttl, int cacheSize) {
        this.source = source;
        this.users = Map.copyOf(users);
        this.dummy = dummy;
        this.verified = ttl.isZero() || cacheSize == 0
                ? null
                : Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(cacheSize)
                        .executor(Runnable::run).build(); // maintenance on the caller: no common-pool wake-ups
        this.cacheKeySecret = new byte[32];
        new SecureRandom().nextBytes(cacheKeySecret);
    }

    /** Loads {@code file} with the default verification cache. Blocking file IO. */
    public static Htpasswd load(Path file) {
        return load(file, file.toString(), DEFAULT_CACHE_TTL, DEFAULT_CACHE_SIZE);
    }

    /**
     * Loads {@code file}; {@code displayName} (the path as written in the config) names it in
     * errors. A zero {@code cacheTtl} or {@code cacheSize} turns the verification cache off.
     *
     * @throws InvalidFileException naming the file and each bad line (up to 10, with the total)
     */
    public static Htpasswd load(Path file, String displayName, Duration cacheTtl, int cacheSize) {
        List<Problem> problems = new ArrayList<>();
        int total = 0;
        Map<String, Hash> users = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        // The dummy for unknown users is a hash of the file's most common kind (scheme and cost),
        // so that an unknown user takes as long as most known ones.
        Map<String, Integer> kinds = new HashMap<>();
        Hash dummy = null;
        int dummyKindCount = 0;
        int line = 0;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new InvalidFileException(List.of(new Problem(displayName, 0,
                        "larger than " + (MAX_FILE_BYTES >> 20) + " MiB")), 1);
            }
            // Bad bytes become U+FFFD, so the line that holds them can be named.
            var decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
            try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(file), decoder))) {
                String text;
                while ((text = in.readLine()) != null) {
                    line++;
                    String problem = null;
                    String entry = text.strip();
                    if (entry.isEmpty() || entry.startsWith("#")) {
                        continue;
                    }
                    if (text.indexOf('\uFFFD') >= 0) {
                        problem = "not UTF-8 text";
                    } else if (text.length() > MAX_LINE_LENGTH) {
                        problem = "line longer than " + MAX_LINE_LENGTH + " characters";
                    } else {
                        int colon = entry.indexOf(':');
                        if (colon <= 0) {
                            problem = colon == 0 ? "empty user name" : "expected user:hash";
                        } else {
                            String user = entry.substring(0, colon);
                            String hashText = entry.substring(colon + 1);
                            try {
                                Hash hash = Hash.parse(hashText);
                                if (user.getBytes(StandardCharsets.UTF_8).length > BasicCredentials.MAX_USER_BYTES) {
                                    problem = "user name longer than " + BasicCredentials.MAX_USER_BYTES + " bytes";
                                } else if (lineOf.containsKey(user)) {
                                    problem = "user '" + user + "' again (first on line " + lineOf.get(user) + ")";
                                } else {
                                    users.put(user, hash);
                                    lineOf.put(user, line);
                                    int n = kinds.merge(hash.kind(), 1, Integer::sum);
                                    if (n > dummyKindCount) {
                                        dummy = hash;
                                        dummyKindCount = n;
                                    }
                                }
                            } catch (IllegalArgumentException e) {
                                problem = "user '" + user + "': " + e.getMessage();
                            }
                        }
                    }
                    if (problem != null) {
                        total++;
                        if (problems.size() < MAX_REPORTED) {
                            problems.add(new Problem(displayName, line, problem));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new InvalidFileException(List.of(new Problem(displayName, 0, "cannot read "
                    + file.toAbsolutePath() + ": " + e.getClass().getSimpleName())), 1);
        }
        if (total > 0) {
            throw new InvalidFileException(problems, total);
        }
        return new Htpasswd(displayName, users, dummy != null ? dummy : DummyHolder.HASH, cacheTtl, cacheSize);
    }

    /** The file as named in the config. */
    public String source() {
        return source;
    }

    public int userCount() {
        return users.size();
    }

    /** Checks a password; blocking CPU work (bcrypt: tens of ms). Never on an event loop. */
    public Outcome check(String user, String password) {
        byte[] pw = password.getBytes(StandardCharsets.UTF_8);
        Hash hash = users.get(user);
        if (hash == null) {
            // Same work as for a real user; the answer is ignored.
            dummy.matches(pw);
            dummyChecks.increment();
            return Outcome.UNKNOWN_USER;
        }
        String key = verified == null ? null : cacheKey(user, pw);
        if (key != null && verified.getIfPresent(key) != null) {
            return Outcome.OK;
        }
        if (!hash.matches(pw)) {
            return Outcome.WRONG_PASSWORD;
        }
        if (key != null) {
            verified.put(key, Boolean.TRUE);
        }
        return Outcome.OK;
    }

    /** {@link #check} is OK. */
    public boolean verify(String user, String password) {
        return check(user, password) == Outcome.OK;
    }

    /**
     * Checks on {@code executor}, or at once when this pair was verified recently (an HMAC and a
     * cache probe, microseconds: fine on an event loop). A rejecting executor fails the future.
     */
    public CompletableFuture<Outcome> checkAsync(String user, String password, Executor executor) {
        if (cachedOk(user, password)) {
            return CompletableFuture.completedFuture(Outcome.OK);
        }
        try {
            return CompletableFuture.supplyAsync(() -> check(user, password), executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@link #checkAsync} is OK. */
    public CompletableFuture<Boolean> verify(String user, String password, Executor executor) {
        return checkAsync(user, password, executor).thenApply(o -> o == Outcome.OK);
    }

    /** Forgets every remembered success (for an operator-triggered "log everyone out"). */
    public void invalidateCache() {
        if (verified != null) {
            verified.invalidateAll();
        }
    }

    /** The kind of hash unknown users are checked against, such as {@code bcrypt:10} (tests). */
    String dummyKind() {
        return dummy.kind();
    }

    /** How many checks of unknown users ran the equalising dummy hash (tests, metrics). */
    public long dummyChecks() {
        return dummyChecks.sum();
    }

    private boolean cachedOk(String user, String password) {
        return verified != null
                && users.containsKey(user)
                && verified.getIfPresent(cacheKey(user, password.getBytes(StandardCharsets.UTF_8))) != null;
    }

    private String cacheKey(String user, byte[] password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(cacheKeySecret, "HmacSHA256"));
            byte[] u = user.getBytes(StandardCharsets.UTF_8);
            mac.update((byte) (u.length >>> 8));
            mac.update((byte) u.length);
            mac.update(u);
            mac.update(password);
            return Base64.getEncoder().encodeToString(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    // ---------------------------------------------------------------- hashes

    private static final String CRYPT_CHARS = "[./0-9A-Za-z]";
    private static final Pattern BCRYPT = Pattern.compile("\\$2([aby])\\$(\\d\\d)\\$" + CRYPT_CHARS + "{53}");
    private static final Pattern MD5_CRYPT = Pattern.compile("\\$(apr1|1)\\$" + CRYPT_CHARS + "{1,8}\\$" + CRYPT_CHARS + "{22}");
    private static final Pattern SHA_CRYPT = Pattern.compile(
            "\\$([56])\\$(rounds=\\d{1,9}\\$)?" + CRYPT_CHARS + "{1,16}\\$" + CRYPT_CHARS + "+");
    private static final Pattern DES_CRYPT = Pattern.compile(CRYPT_CHARS + "{13}");

    /** One user's stored hash. {@link #matches} compares in constant time for its length. */
    private sealed interface Hash {
        boolean matches(byte[] password);

        /** Scheme and work factor: hashes of one kind take the same time to check. */
        String kind();

        static Hash parse(String text) {
            var m = BCRYPT.matcher(text);
            if (m.matches()) {
                int cost = Integer.parseInt(m.group(2));
                if (cost < 4 || cost > 17) {
                    throw new IllegalArgumentException("bcrypt cost " + cost + " outside 4..17 (what htpasswd -C accepts)");
                }
                return new Bcrypt(text);
            }
            if (text.startsWith("$2x$")) {
                throw new IllegalArgumentException("bcrypt $2x$ (the bug-compatible variant) is not accepted;"
                        + " re-create the password with htpasswd -B");
            }
            if (MD5_CRYPT.matcher(text).matches()) {
                return new Crypt(text, text.startsWith("$apr1$") ? Crypt.APR1 : Crypt.MD5);
            }
            m = SHA_CRYPT.matcher(text);
            if (m.matches()) {
                int length = text.length() - text.lastIndexOf('$') - 1;
                boolean sha256 = m.group(1).equals("5");
                if (length != (sha256 ? 43 : 86)) {
                    throw new IllegalArgumentException("malformed $" + m.group(1) + "$ hash");
                }
                return new Crypt(text, sha256 ? Crypt.SHA256 : Crypt.SHA512);
            }
            if (text.startsWith("{SHA}")) {
                byte[] digest;
                try {
                    digest = Base64.getDecoder().decode(text.substring(5));
                } catch (IllegalArgumentException e) {
                    digest = new byte[0];
                }
                if (digest.length != 20) {
                    throw new IllegalArgumentException("malformed {SHA} hash (expected base64 of 20 bytes)");
                }
                return new Sha1(digest);
            }
            if (DES_CRYPT.matcher(text).matches()) {
                throw new IllegalArgumentException("crypt(3) DES hash refused: only the first 8 characters of a"
                        + " password count; re-create it with htpasswd -B");
            }
            if (text.startsWith("$")) {
                throw new IllegalArgumentException("unsupported or malformed hash; use bcrypt (htpasswd -B)");
            }
            throw new IllegalArgumentException("not a recognised hash; plain-text passwords are refused"
                    + " (use htpasswd -B)");
        }
    }

    private record Bcrypt(String hash) implements Hash {
        @Override
        public boolean matches(byte[] password) {
            // bcrypt reads the first 72 bytes, as every implementation does (Apache's too).
            return OpenBSDBCrypt.checkPassword(hash, password);
        }

        @Override
        public String kind() {
            return "bcrypt:" + hash.substring(4, 6);
        }

        @Override
        public String toString() {
            return "Bcrypt[***]";
        }
    }

    private record Crypt(String hash, int scheme) implements Hash {
        static final int APR1 = 0;
        static final int MD5 = 1;
        static final int SHA256 = 2;
        static final int SHA512 = 3;

        @Override
        public boolean matches(byte[] password) {
            // The stored hash is its own salt argument: the libraries read the salt (and rounds) from it.
            // They zero the key array they are given, hence the copy: the caller's bytes stay intact.
            byte[] key = password.clone();
            String computed = switch (scheme) {
                case APR1 -> Md5Crypt.apr1Crypt(key, hash);
                case MD5 -> Md5Crypt.md5Crypt(key, hash);
                case SHA256 -> Sha2Crypt.sha256Crypt(key, hash);
                default -> Sha2Crypt.sha512Crypt(key, hash);
            };
            return MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String kind() {
            int rounds = hash.indexOf("rounds=");
            return hash.substring(0, hash.indexOf('$', 1)) + (rounds < 0 ? "" : ":" + hash.substring(rounds, hash.indexOf('$', rounds)));
        }

        @Override
        public String toString() {
            return "Crypt[***]";
        }
    }

    private record Sha1(byte[] digest) implements Hash {
        @Override
        public boolean matches(byte[] password) {
            try {
                return MessageDigest.isEqual(MessageDigest.getInstance("SHA-1").digest(password), digest);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is part of every JDK", e);
            }
        }

        @Override
        public String kind() {
            return "sha1";
        }

        @Override
        public String toString() {
            return "Sha1[***]";
        }
    }

    /** For a file with no users: a bcrypt hash of random bytes, made once (cost 5, ~2 ms). */
    private static final class DummyHolder {
        static final Hash HASH;

        static {
            SecureRandom random = new SecureRandom();
            byte[] salt = new byte[16];
            byte[] secret = new byte[24];
            random.nextBytes(salt);
            random.nextBytes(secret);
            HASH = new Bcrypt(OpenBSDBCrypt.generate("2y", secret, salt, 5));
        }
    }
}
