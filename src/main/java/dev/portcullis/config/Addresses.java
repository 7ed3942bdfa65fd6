package dev.portcullis.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/** Addresses, CIDRs and host patterns as written in the config. No DNS lookups are ever made here. */
public final class Addresses {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern HOSTNAME = Pattern.compile(
            "[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\\.?");

    private Addresses() {}

    /**
     * {@code host:port}, {@code [::1]:port} or {@code 0.0.0.0:port}. The host of the result has no brackets.
     *
     * @param allowAnyPort port 0 ("any free port") is accepted (listener and admin binds)
     */
    public static HostPort hostPort(String text, boolean allowAnyPort) {
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("invalid address '" + text + "'; expected [ipv6]:port such as [::1]:8080");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (!isIpv6(host)) {
                throw new IllegalArgumentException("invalid IPv6 address '" + host + "' in '" + text + "'");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing port in '" + text + "'; expected host:port such as 127.0.0.1:8080");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("invalid address '" + text + "'; an IPv6 address needs brackets, such as [::1]:8080");
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing host in '" + text + "'; write 0.0.0.0" + s + " for every address");
            }
            if (host.matches("[0-9.]+")) {
                if (!isIpv4(host)) {
                    throw new IllegalArgumentException("invalid IPv4 address '" + host + "' in '" + text + "'");
                }
            } else if (!HOSTNAME.matcher(host).matches()) {
                throw new IllegalArgumentException("invalid host name '" + host + "' in '" + text + "'");
            }
        }
        int p;
        try {
            p = port.matches("\\d{1,5}") ? Integer.parseInt(port) : -1;
        } catch (NumberFormatException e) {
            p = -1;
        }
        int min = allowAnyPort ? 0 : 1;
        if (p < min || p > 65535) {
            throw new IllegalArgumentException("invalid port '" + port + "' in '" + text + "'; expected " + min + "..65535"
                    + (allowAnyPort ? " (0: any free port)" : ""));
        }
        return new HostPort(host, p);
    }

    /**
     * A CIDR such as {@code 10.0.0.0/8} or {@code fd00::/8}, or a bare IP literal. Returned with its prefix length
     * ({@code /32} or {@code /128} added to a bare address). Host names are refused.
     */
    public static String cidr(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        boolean v6;
        if (isIpv4(addr)) {
            v6 = false;
        } else if (isIpv6(addr)) {
            v6 = true;
        } else {
            throw new IllegalArgumentException("invalid address '" + text
                    + "'; expected an IP literal or a CIDR such as 10.0.0.0/8 or fd00::/8 (host names are not accepted)");
        }
        int max = v6 ? 128 : 32;
        if (slash < 0) {
            return addr + "/" + max;
        }
        String len = s.substring(slash + 1);
        int n = len.matches("\\d{1,3}") ? Integer.parseInt(len) : -1;
        if (n < 0 || n > max) {
            throw new IllegalArgumentException("invalid prefix length '" + len + "' in '" + text + "'; expected 0.." + max);
        }
        return addr + "/" + n;
    }

    /** Lower-cased exact name or leading wildcard {@code *.example.com}. */
    public static String hostPattern(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("*")) {
            throw new IllegalArgumentException("host '*' matches every host; leave 'host' out instead");
        }
        String rest = s.startsWith("*.") ? s.substring(2) : s;
        if (rest.indexOf('*') >= 0) {
            throw new IllegalArgumentException("invalid host '" + text
                    + "'; a wildcard is only accepted as a leading '*.', such as '*.example.com'");
        }
        if (rest.indexOf(':') >= 0 && !isIpv6(rest.replace("[", "").replace("]", ""))) {
            throw new IllegalArgumentException("invalid host '" + text + "'; write the host name without a port");
        }
        if (!HOSTNAME.matcher(rest).matches() && !isIpv6(rest.replace("[", "").replace("]", ""))) {
            throw new IllegalArgumentException("invalid host '" + text + "'; expected a host name such as example.com or *.example.com");
        }
        return s;
    }

    public static boolean isIpv4(String s) {
        var m = IPV4.matcher(s);
        if (!m.matches()) {
            return false;
        }
        for (int i = 1; i <= 4; i++) {
            if (Integer.parseInt(m.group(i)) > 255) {
                return false;
            }
        }
        return true;
    }

    /** An IPv6 literal without brackets; checked by InetAddress only once it cannot be a host name (no lookup). */
    public static boolean isIpv6(String s) {
        if (s.indexOf(':') < 0 || !IPV6_CHARS.matcher(s).matches() || s.charAt(0) == '.') {
            return false;
        }
        try {
            return InetAddress.getByName(s).getAddress().length == 16 || s.contains("::ffff:");
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Whether two binds would take the same socket: same port, and same host or either one a wildcard. */
    public static boolean overlap(HostPort a, HostPort b) {
        if (a.port() == 0 || b.port() == 0 || a.port() != b.port()) {
            return false;
        }
        String ha = canonical(a.host());
        String hb = canonical(b.host());
        return ha.equals(hb) || isWildcard(ha) || isWildcard(hb);
    }

    private static boolean isWildcard(String canonicalHost) {
        return canonicalHost.equals("0.0.0.0") || canonicalHost.equals("::");
    }

    private static String canonical(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (isIpv6(h)) {
            try {
                InetAddress a = InetAddress.getByName(h);
                return a.getAddress().length == 16 && a.isAnyLocalAddress() ? "::" : a.getHostAddress();
            } catch (UnknownHostException e) {
                return h;
            }
        }
        return h;
    }
}
