package dev.portcullis.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A {@code mode: forward} listener's {@code forward} section (and a {@code protocol: socks5} listener's): who may
 * use the proxy, where it may go, and how much of the client it shows.
 *
 * @param clients                 CIDRs of the clients that may use it (others get 403); never empty: without the
 *                                key only loopback clients may, so a forward proxy is never open by accident
 * @param htpasswd                {@code auth.basic.htpasswd}: the users file; null for no authentication
 * @param realm                   the realm sent in {@code Proxy-Authenticate}
 * @param allowDomains            entries as written: exact names, {@code *.} wildcards, {@code file:} lists (paths
 *                                resolved against the config file's directory, see {@link #files})
 * @param denyDomains             the same, for what is refused; deny wins over allow
 * @param denyPrivateDestinations refuse loopback, private, link-local, metadata... destinations (the SSRF guard)
 * @param allowPrivate            CIDRs the guard lets through anyway ({@code allow_private}: an internal host
 *                                reached on purpose)
 * @param connectPorts            the ports CONNECT tunnels may reach
 * @param anonymize               which client-identifying fields are removed on the way to the origin
 * @param cacheZone               {@code cache: ZONE}, null for none
 * @param parent                  {@code parent}: a parent proxy every request goes through, null for none
 * @param interceptTls            {@code intercept_tls}: the CA to sign per-host certificates with, null for off
 */
public record ForwardConfig(List<String> clients, Path htpasswd, String realm, List<DomainEntry> allowDomains,
                            List<DomainEntry> denyDomains, boolean denyPrivateDestinations, List<String> allowPrivate,
                            List<Integer> connectPorts,
                            Anonymize anonymize, String cacheZone, Parent parent, InterceptTls interceptTls) {
    public static final List<String> LOOPBACK_CLIENTS = List.of("127.0.0.0/8", "::1/128");
    public static final List<Integer> DEFAULT_CONNECT_PORTS = List.of(443);
    public static final String DEFAULT_REALM = "portcullis";

    /** What {@code anonymize} removes from requests on their way to the origin. */
    public enum Anonymize {
        /** Nothing removed; {@code Via} and {@code X-Forwarded-For} added, as Squid does by default. */
        OFF,
        /** No {@code Via}, {@code X-Forwarded-For}, {@code Forwarded}, {@code X-Real-IP}, {@code Proxy-*}. */
        STANDARD,
        /** Also no {@code From}, no cross-origin {@code Referer}, and one {@code User-Agent} for every client. */
        STRICT
    }

    /**
     * One {@code allow_domains} / {@code deny_domains} entry.
     *
     * @param text the entry as written (for the rule named in a 403)
     * @param file for {@code file:PATH}, the resolved path; null for a name or wildcard
     * @param line where the entry is in the config file
     */
    public record DomainEntry(String text, Path file, int line) {}

    /**
     * {@code parent: { address, auth: { basic: { user, password } } }}: every request goes through this proxy
     * (absolute-form requests as they are, CONNECT as CONNECT), never straight to the origin.
     *
     * @param address  the parent's {@code host:port}; a name is resolved when requests need it (its TTL honoured)
     * @param user     the user sent to the parent in {@code Proxy-Authorization: Basic}; null for none
     * @param password its password (null when {@code user} is)
     */
    public record Parent(HostPort address, String user, String password) {
        @Override
        public String toString() {
            return "Parent[" + address + (user == null ? "" : ", user " + user + ", password ***") + "]";
        }
    }

    /**
     * {@code intercept_tls: { ca_cert, ca_key, origin_ca }}: CONNECT tunnels are opened as TLS here, with a
     * certificate for the tunnel's host issued by this CA, and their requests proxied to the origin over a new TLS
     * connection that is verified as any upstream's.
     *
     * @param caCert   the CA certificate (PEM) that issues the per-host certificates; clients must trust it
     * @param caKey    its private key (PEM)
     * @param originCa PEM bundle trusted for origins' certificates; null for the JDK's default trust store
     * @param line     line of the {@code intercept_tls} key, for problems found when the files are used
     * @param path     its config path, for the same
     */
    public record InterceptTls(Path caCert, Path caKey, Path originCa, int line, String path) {}

    /** The files the entries name, in order (for reloads: a changed list file changes the config). */
    public List<Path> files() {
        return java.util.stream.Stream.concat(allowDomains.stream(), denyDomains.stream())
                .map(DomainEntry::file).filter(java.util.Objects::nonNull).toList();
    }
}
