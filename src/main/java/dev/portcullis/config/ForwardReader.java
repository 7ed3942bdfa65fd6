package dev.portcullis.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A listener's {@code forward} section. */
final class ForwardReader {
    static final List<String> KEYS = List.of("clients", "auth", "allow_domains", "deny_domains",
            "deny_private_destinations", "allow_private", "connect_ports", "anonymize", "cache", "parent", "intercept_tls");
    /** Refused with "not supported in this version yet" rather than ignored. */
    static final List<String> UNSUPPORTED = List.of();
    /** RFC 7617: a user-id never contains ':' (the first one splits user and password); both bounded. */
    static final int MAX_PARENT_USER = 255;
    static final int MAX_PARENT_PASSWORD = 1024;

    private ForwardReader() {
    }

    static ForwardConfig read(Section f, Semantics semantics) {
        f.keys(KEYS, UNSUPPORTED);
        List<String> clients = new ArrayList<>();
        for (Section.Item item : f.items("clients", true)) {
            String cidr = MatchReader.parse(f, item, "an address or CIDR", Addresses::cidr);
            if (cidr != null) {
                clients.add(cidr);
            }
        }
        if (f.has("clients") && clients.isEmpty() && !f.isBad()) {
            f.error("clients", "an empty client list would refuse everyone; leave the key out for loopback only");
        }
        Path htpasswd = null;
        String realm = ForwardConfig.DEFAULT_REALM;
        if (f.has("auth")) {
            Section auth = f.section("auth");
            auth.keys(List.of("basic"), List.of());
            Section basic = auth.section("basic");
            basic.keys(List.of("htpasswd", "realm"), List.of());
            if (!auth.has("basic")) {
                auth.missing("basic");
            } else if (!basic.has("htpasswd")) {
                basic.missing("htpasswd");
            } else {
                htpasswd = basic.file("htpasswd");
            }
            realm = basic.string("realm", realm);
            if (realm != null && (realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0)) {
                basic.error("realm", "a realm may not contain '\"' or '\\'");
            }
        }
        List<ForwardConfig.DomainEntry> allow = domains(f, "allow_domains");
        List<ForwardConfig.DomainEntry> deny = domains(f, "deny_domains");
        boolean denyPrivate = f.bool("deny_private_destinations", true);
        List<String> allowPrivate = new ArrayList<>();
        for (Section.Item item : f.items("allow_private", true)) {
            String cidr = MatchReader.parse(f, item, "an address or CIDR", Addresses::cidr);
            if (cidr != null) {
                allowPrivate.add(cidr);
            }
        }
        List<Integer> ports = new ArrayList<>();
        for (Section.Item item : f.items("connect_ports", true)) {
            Integer port = MatchReader.parse(f, item, "a port", v -> {
                int p;
                try {
                    p = Integer.parseInt(v.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid port '" + v + "'; expected 1 to 65535");
                }
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException("invalid port " + p + "; expected 1 to 65535");
                }
                return p;
            });
            if (port != null) {
                ports.add(port);
            }
        }
        ForwardConfig.Anonymize anonymize = f.parse("anonymize", ForwardConfig.Anonymize.STANDARD, "a level", s ->
                switch (s.trim().toLowerCase(Locale.ROOT)) {
                    case "off" -> ForwardConfig.Anonymize.OFF;
                    case "standard" -> ForwardConfig.Anonymize.STANDARD;
                    case "strict" -> ForwardConfig.Anonymize.STRICT;
                    default -> throw new IllegalArgumentException("unknown level '" + s
                            + "'; expected off, standard or strict");
                });
        String cache = null;
        if (f.has("cache")) {
            cache = f.string("cache", null);
            if (cache != null && cache.equals("off")) {
                cache = null;
            } else if (cache != null) {
                semantics.cacheRef(cache, f.line("cache"), f.path("cache"));
            }
        }
        ForwardConfig.Parent parent = f.has("parent") ? parent(f.section("parent")) : null;
        ForwardConfig.InterceptTls intercept = f.has("intercept_tls") ? intercept(f.section("intercept_tls")) : null;
        if (f.has("intercept_tls") && f.has("parent")) {
            f.error("intercept_tls", "'intercept_tls' cannot be combined with 'parent' in this version (intercepted "
                    + "requests go to their origins directly); remove one of them");
        }
        return new ForwardConfig(
                clients.isEmpty() ? ForwardConfig.LOOPBACK_CLIENTS : List.copyOf(clients), htpasswd, realm,
                allow, deny, denyPrivate, List.copyOf(allowPrivate), ports.isEmpty() && !f.has("connect_ports")
                        ? ForwardConfig.DEFAULT_CONNECT_PORTS : List.copyOf(ports),
                anonymize, cache, parent, intercept);
    }

    /** {@code intercept_tls: { ca_cert, ca_key, origin_ca }}; null when broken (reported). */
    private static ForwardConfig.InterceptTls intercept(Section t) {
        t.keys(List.of("ca_cert", "ca_key", "origin_ca"), List.of());
        Path cert = null;
        Path key = null;
        if (!t.has("ca_cert")) {
            t.missing("ca_cert");
        } else {
            cert = t.file("ca_cert");
        }
        if (!t.has("ca_key")) {
            t.missing("ca_key");
        } else {
            key = t.file("ca_key");
        }
        Path originCa = t.has("origin_ca") ? t.file("origin_ca") : null;
        if (cert == null || key == null || t.isBad()) {
            return null;
        }
        return new ForwardConfig.InterceptTls(cert, key, originCa, t.line(), t.path());
    }

    /** {@code parent: { address: host:port, auth: { basic: { user, password } } }}; null when broken (reported). */
    private static ForwardConfig.Parent parent(Section p) {
        p.keys(List.of("address", "auth"), List.of());
        HostPort address = null;
        if (!p.has("address")) {
            p.missing("address");
        } else {
            address = p.address("address", null, false);
        }
        String user = null;
        String password = null;
        if (p.has("auth")) {
            Section auth = p.section("auth");
            auth.keys(List.of("basic"), List.of());
            Section basic = auth.section("basic");
            basic.keys(List.of("user", "password"), List.of());
            if (!auth.has("basic")) {
                auth.missing("basic");
            } else {
                user = basic.requiredString("user");
                password = basic.requiredString("password");
                if (user != null && (user.isEmpty() || user.indexOf(':') >= 0 || hasControl(user)
                        || user.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_PARENT_USER)) {
                    basic.error("user", "a user for Basic authentication is 1 to " + MAX_PARENT_USER
                            + " bytes without ':' or control characters");
                    user = null;
                }
                if (password != null && (hasControl(password)
                        || password.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_PARENT_PASSWORD)) {
                    basic.error("password", "a password for Basic authentication is at most " + MAX_PARENT_PASSWORD
                            + " bytes without control characters");
                    password = null;
                }
            }
        }
        if (address == null || p.isBad() || (p.has("auth") && (user == null || password == null))) {
            return null;
        }
        return new ForwardConfig.Parent(address, user, password);
    }

    private static boolean hasControl(String s) {
        return s.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
    }

    private static List<ForwardConfig.DomainEntry> domains(Section f, String key) {
        List<ForwardConfig.DomainEntry> out = new ArrayList<>();
        for (Section.Item item : f.items(key, true)) {
            String text = f.scalar(item.node(), item.path(), "a domain name, '*.' wildcard or 'file:PATH'");
            if (text == null) {
                continue;
            }
            int line = item.node().getStartMark().map(m -> m.getLine() + 1).orElse(f.line(key));
            String t = text.trim();
            if (t.startsWith("file:")) {
                Path file = f.fileAt(item, t.substring("file:".length()).trim(), "a domain list file");
                if (file != null) {
                    out.add(new ForwardConfig.DomainEntry(t, file, line));
                }
            } else if (t.isEmpty() || t.chars().anyMatch(c -> c <= ' ' || c == '/' || c == ':' || c >= 0x7f)) {
                f.errorAt(item, "invalid domain '" + text + "'; expected a name such as example.com, a wildcard "
                        + "such as *.example.com, or file:PATH");
            } else {
                out.add(new ForwardConfig.DomainEntry(t.toLowerCase(Locale.ROOT), null, line));
            }
        }
        return List.copyOf(out);
    }
}
