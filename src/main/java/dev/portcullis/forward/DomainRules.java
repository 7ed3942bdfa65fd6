package dev.portcullis.forward;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code allow_domains} and {@code deny_domains} of a forward listener.
 *
 * <p>Entries, inline or one per line in a {@code file:PATH} list:
 * <ul>
 *   <li>{@code example.com}: that name only;
 *   <li>{@code *.example.com}: every name under it, not {@code example.com} itself (as route
 *       {@code host} patterns and TLS certificates read a wildcard);
 *   <li>{@code .example.com} (Squid's form): {@code example.com} and every name under it;
 *   <li>an IP address ({@code 192.0.2.7}, {@code [2001:db8::1]}): requests that name that address
 *       literally, in any spelling.
 * </ul>
 * Names are normalised as {@link HostSyntax} does (lower case, punycode, no trailing dot).
 *
 * <p>Deny wins over allow. An empty allow list allows all that deny does not name; a non-empty
 * one allows only what it names, so a request by IP literal is refused unless the allow list
 * names that address (otherwise an allow list could be walked around by asking for the address).
 *
 * <p>Lists are held in {@link NameSet}s: a million names load in about a second and take some
 * 40 MB; a lookup costs one hash probe per label of the name.
 */
public final class DomainRules {

    /** Above this a list file is refused: bounded memory (about 40 bytes a name). */
    public static final int MAX_NAMES_PER_FILE = 5_000_000;
    /** List files larger than this are refused before reading (bounded memory). */
    public static final long MAX_FILE_BYTES = 512L << 20;
    /** Longer lines cannot be a host name (253) plus a comment of sane length. */
    public static final int MAX_LINE_LENGTH = 4096;
    /** Problems listed in one error before "and N more". */
    static final int MAX_REPORTED = 10;

    /**
     * The outcome of a check. {@code list} is {@code "deny_domains"}, {@code "allow_domains"}, or
     * null when an empty allow list let the name through; {@code rule} is the entry that decided
     * (its text, or {@code file:PATH:LINE}), null when no entry did (not in a non-empty allow list).
     */
    public record Decision(boolean allowed, String list, String rule) {
        static final Decision ALLOWED_BY_DEFAULT = new Decision(true, null, null);
        static final Decision NOT_IN_ALLOW_LIST = new Decision(false, "allow_domains", null);

        /** A short reason for a 403 body or a log line. */
        public String reason() {
            if (allowed) {
                return rule == null ? "allowed" : "allowed by allow_domains rule " + rule;
            }
            return rule == null ? "not in allow_domains" : "denied by " + list + " rule " + rule;
        }
    }

    /**
     * One bad entry. For a list file, {@code source} is its path as written in the config and
     * {@code line} is 1-based; for an inline entry, {@code source} is null and {@code line} is
     * the entry's 0-based index in the YAML list (for the caller to map to a config location).
     */
    public record Problem(String source, int line, String entry, String message) {
        @Override
        public String toString() {
            String where = source == null ? "[" + line + "]" : source + ":" + line + ":";
            return where + " '" + entry + "': " + message;
        }
    }

    /** Every problem found while compiling one list (up to {@link #MAX_REPORTED}, with the total). */
    public static final class InvalidRulesException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient List<Problem> problems;

        InvalidRulesException(String list, List<Problem> problems, int total) {
            super(list + ": " + dev.portcullis.config.ProblemList.describe(problems, total));
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private static final DomainRules ALLOW_ALL = new DomainRules(RuleList.EMPTY, RuleList.EMPTY);

    private final RuleList allow;
    private final RuleList deny;

    private DomainRules(RuleList allow, RuleList deny) {
        this.allow = allow;
        this.deny = deny;
    }

    /** No lists: everything allowed. */
    public static DomainRules allowAll() {
        return ALLOW_ALL;
    }

    /**
     * Compiles both lists; {@code file:PATH} entries are read now, relative to {@code baseDir}
     * (the config file's directory). Blocking file IO: call it where config is loaded, not on an
     * event loop.
     *
     * @throws InvalidRulesException naming every bad entry (file and line for list files); a list
     *     with any bad entry is refused whole, so a reload keeps the rules in force before it
     */
    public static DomainRules compile(List<String> allowDomains, List<String> denyDomains, Path baseDir) {
        RuleList allow = RuleList.compile("allow_domains", allowDomains, baseDir);
        RuleList deny = RuleList.compile("deny_domains", denyDomains, baseDir);
        return new DomainRules(allow, deny);
    }

    /** Names and addresses held in both lists (entries, after duplicates). */
    public int size() {
        return allow.size() + deny.size();
    }

    /** Memory held by the compiled lists, for the load log line. */
    public long footprintBytes() {
        return allow.footprintBytes() + deny.footprintBytes();
    }

    /** Decides for a host as {@link HostSyntax} parsed it. */
    public Decision check(HostSyntax.Host host) {
        if (host instanceof HostSyntax.DomainName d) {
            return checkKey(d.name());
        }
        if (host instanceof HostSyntax.IpLiteral ip) {
            return checkKey(ip.text());
        }
        throw new IllegalArgumentException("an invalid host is refused before the domain rules: " + host);
    }

    /** Decides for a destination written as an address (a SOCKS5 IPv4/IPv6 request, an IP literal). */
    public Decision check(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 16 && isV4Mapped(a)) {
            // As HostSyntax reads [::ffff:a.b.c.d]: the IPv4 address, so an IPv4 entry matches it.
            return checkKey((a[12] & 0xFF) + "." + (a[13] & 0xFF) + "." + (a[14] & 0xFF) + "." + (a[15] & 0xFF));
        }
        return checkKey(HostSyntax.canonicalText(address));
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return (a[10] & 0xFF) == 0xFF && (a[11] & 0xFF) == 0xFF;
    }

    private Decision checkKey(String key) {
        String denied = deny.match(key);
        if (denied != null) {
            return new Decision(false, "deny_domains", denied);
        }
        if (allow.isEmpty()) {
            return Decision.ALLOWED_BY_DEFAULT;
        }
        String allowed = allow.match(key);
        return allowed == null ? Decision.NOT_IN_ALLOW_LIST : new Decision(true, "allow_domains", allowed);
    }

    // ---------------------------------------------------------------- one list

    /** The inline entries of one list in one set (tag = index), each file in its own (tag = line). */
    private record RuleList(List<String> inlineTexts, NameSet inline, List<String> fileNames, List<NameSet> files) {
        static final RuleList EMPTY = new RuleList(List.of(), new NameSet.Builder().build(), List.of(), List.of());

        static RuleList compile(String list, List<String> entries, Path baseDir) {
            if (entries.isEmpty()) {
                return EMPTY;
            }
            List<Problem> problems = new ArrayList<>();
            int[] total = {0};
            NameSet.Builder inline = new NameSet.Builder();
            List<String> texts = new ArrayList<>();
            List<String> fileNames = new ArrayList<>();
            List<NameSet> files = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                String entry = entries.get(i).strip();
                if (entry.startsWith("file:")) {
                    String name = entry.substring(5).strip();
                    NameSet set = loadFile(name, baseDir, problems, total);
                    if (set != null) {
                        fileNames.add(name);
                        files.add(set);
                    }
                    continue;
                }
                texts.add(entry);
                try {
                    Entry e = Entry.parse(entry);
                    inline.add(e.key(), e.forms(), texts.size() - 1);
                } catch (IllegalArgumentException ex) {
                    report(problems, total, new Problem(null, i, entry, ex.getMessage()));
                }
            }
            if (total[0] > 0) {
                throw new InvalidRulesException(list, problems, total[0]);
            }
            return new RuleList(List.copyOf(texts), inline.build(), List.copyOf(fileNames), List.copyOf(files));
        }

        boolean isEmpty() {
            return inline.size() == 0 && files.stream().allMatch(f -> f.size() == 0);
        }

        int size() {
            return inline.size() + files.stream().mapToInt(NameSet::size).sum();
        }

        long footprintBytes() {
            return inline.footprintBytes() + files.stream().mapToLong(NameSet::footprintBytes).sum();
        }

        /** The rule text of the first matching entry, or null. */
        String match(String key) {
            int tag = inline.match(key);
            if (tag >= 0) {
                return inlineTexts.get(tag);
            }
            for (int i = 0; i < files.size(); i++) {
                int line = files.get(i).match(key);
                if (line >= 0) {
                    return "file:" + fileNames.get(i) + ":" + line;
                }
            }
            return null;
        }
    }

    private static void report(List<Problem> problems, int[] total, Problem p) {
        total[0]++;
        if (problems.size() < MAX_REPORTED) {
            problems.add(p);
        }
    }

    private static NameSet loadFile(String name, Path baseDir, List<Problem> problems, int[] total) {
        if (name.isEmpty()) {
            report(problems, total, new Problem(null, 0, "file:", "no path after 'file:'"));
            return null;
        }
        Path path = baseDir.resolve(name);
        NameSet.Builder set = new NameSet.Builder();
        int line = 0;
        try {
            if (Files.size(path) > MAX_FILE_BYTES) {
                report(problems, total, new Problem(name, 0, "file:" + name,
                        "larger than " + (MAX_FILE_BYTES >> 20) + " MiB"));
                return null;
            }
        } catch (IOException e) {
            report(problems, total, new Problem(name, 0, "file:" + name, cannotRead(path, e)));
            return null;
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(path), replacing()), 1 << 16)) {
            String text;
            while ((text = in.readLine()) != null) {
                line++;
                if (text.length() > MAX_LINE_LENGTH) {
                    report(problems, total, new Problem(name, line, text.substring(0, 40) + "...",
                            "line longer than " + MAX_LINE_LENGTH + " characters"));
                    continue;
                }
                if (text.indexOf('\uFFFD') >= 0) {
                    // Bytes that are not UTF-8 decode to U+FFFD: an error on this line, not a mangled name.
                    report(problems, total, new Problem(name, line, "", "not UTF-8 text"));
                    continue;
                }
                int hash = text.indexOf('#');
                String entry = (hash >= 0 ? text.substring(0, hash) : text).strip();
                if (entry.isEmpty()) {
                    continue;
                }
                try {
                    Entry e = Entry.parse(entry);
                    set.add(e.key(), e.forms(), line);
                } catch (IllegalArgumentException ex) {
                    report(problems, total, new Problem(name, line, entry, ex.getMessage()));
                }
                if (set.size() > MAX_NAMES_PER_FILE) {
                    report(problems, total, new Problem(name, line, entry,
                            "more than " + MAX_NAMES_PER_FILE + " names in one list file"));
                    return null;
                }
            }
        } catch (IOException e) {
            report(problems, total, new Problem(name, 0, "file:" + name, cannotRead(path, e)));
            return null;
        }
        return set.build();
    }

    /** UTF-8 that turns bad bytes into U+FFFD, so the line that holds them can be named. */
    static java.nio.charset.CharsetDecoder replacing() {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
    }

    private static String cannotRead(Path path, IOException e) {
        return "cannot read " + path.toAbsolutePath() + ": " + e.getClass().getSimpleName()
                + (e.getMessage() == null || e.getMessage().equals(path.toString()) ? "" : " " + e.getMessage());
    }

    private static boolean hasWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** One entry, normalised: the key looked up and the forms it matches in. */
    record Entry(String key, byte forms) {
        static Entry parse(String text) {
            if (text.equals("*")) {
                throw new IllegalArgumentException("'*' alone names every host; leave allow_domains empty to allow"
                        + " all, or use deny_private_destinations and clients to restrict");
            }
            byte forms = NameSet.EXACT;
            String rest = text;
            if (text.startsWith("*.")) {
                forms = NameSet.SUBDOMAINS;
                rest = text.substring(2);
            } else if (text.startsWith(".")) {
                forms = NameSet.EXACT | NameSet.SUBDOMAINS;
                rest = text.substring(1);
            }
            if (rest.indexOf('*') >= 0) {
                throw new IllegalArgumentException("a wildcard is only accepted as a leading '*.' (or Squid's"
                        + " leading '.'), such as '*.example.com'");
            }
            if (hasWhitespace(rest)) {
                throw new IllegalArgumentException("one name per entry (hosts-file lines such as '0.0.0.0 name'"
                        + " are not read: keep the name only)");
            }
            if (rest.indexOf('/') >= 0) {
                throw new IllegalArgumentException("a domain list holds host names, not URLs or CIDR blocks");
            }
            if (rest.indexOf(':') >= 0 && !rest.startsWith("[")) {
                throw new IllegalArgumentException("write a host name without a port (IPv6 addresses in brackets)");
            }
            HostSyntax.Host host = HostSyntax.parse(rest);
            if (host instanceof HostSyntax.DomainName d) {
                return new Entry(d.name(), forms);
            }
            if (host instanceof HostSyntax.IpLiteral ip) {
                if (forms != NameSet.EXACT) {
                    throw new IllegalArgumentException("a wildcard needs a domain name, not an IP address");
                }
                return new Entry(ip.text(), forms);
            }
            throw new IllegalArgumentException(((HostSyntax.Invalid) host).why());
        }
    }
}
