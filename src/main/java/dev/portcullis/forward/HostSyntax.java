package dev.portcullis.forward;

import java.net.IDN;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Reads the host a forward-proxy client asked for (absolute-form URI, CONNECT authority, SOCKS5
 * domain) the way browsers (the WHATWG URL host parser) and curl read it, so that every spelling
 * that some client, parent proxy or resolver would take for an IP address is recognised here as
 * that address and judged by the {@link DestinationGuard}, never sent to DNS as a name.
 *
 * <p>Pure and allocation-light; no DNS, no I/O. {@code InetAddress.getByAddress} and the bracketed
 * {@code getByName("[...]")} used here never look anything up.
 *
 * <p>Deviations from WHATWG, all towards refusing: percent-encoded hosts, IPv6 zone ids, a hex
 * prefix with no digits ({@code 0x}, which browsers read as 0) and the four IDNA deviation
 * characters (ß, ς, ZWJ, ZWNJ, which IDNA2003 and browsers map differently) are {@link Invalid}.
 */
public final class HostSyntax {

    /** Longer hosts are refused before any work (DNS names stop at 253; SOCKS5 at 255). */
    public static final int MAX_HOST_LENGTH = 1024;

    private HostSyntax() {}

    /** What a host string is. */
    public sealed interface Host permits IpLiteral, DomainName, Invalid {}

    /** An address written literally, in any spelling; {@link #text()} is its canonical form. */
    public record IpLiteral(InetAddress address) implements Host {
        /** {@code 127.0.0.1} or {@code [::1]}: the form for logs, Host headers and rule keys. */
        public String text() {
            return canonicalText(address);
        }
    }

    /**
     * A DNS name: ASCII (IDN as punycode), lower case, no trailing dot. Resolve it as an absolute
     * name ({@code name + "."}) so that the proxy host's search domains do not apply to it.
     */
    public record DomainName(String name) implements Host {
        /** Guards the invariant rule lookups rely on: an upper-case name would miss a deny entry. */
        public DomainName {
            if (name.isEmpty() || name.startsWith(".") || name.endsWith(".")) {
                throw new IllegalArgumentException("not a normalised host name");
            }
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
                    throw new IllegalArgumentException("not a normalised host name (use HostSyntax.parse)");
                }
            }
        }
    }

    /** Neither: {@code why} is a short reason fit for a 400 body and a log line. */
    public record Invalid(String why) implements Host {}

    /** A host with its port, from a CONNECT authority or an absolute URI's authority. */
    public record Authority(Host host, int port) {}

    /**
     * Parses a bare host (no port): a name, an IPv4 address in any WHATWG spelling, or an IPv6
     * address with or without brackets.
     */
    public static Host parse(String input) {
        if (input == null || input.isEmpty()) {
            return new Invalid("empty host");
        }
        if (input.length() > MAX_HOST_LENGTH) {
            return new Invalid("host longer than " + MAX_HOST_LENGTH + " characters");
        }
        if (input.indexOf('%') >= 0) {
            // Browsers decode first; decoding here would make "%31%32%37.0.0.1" a second spelling of 127.0.0.1.
            return input.startsWith("[")
                    ? new Invalid("IPv6 zone ids are not accepted")
                    : new Invalid("percent-encoded host");
        }
        if (input.charAt(0) == '[') {
            if (input.charAt(input.length() - 1) != ']') {
                return new Invalid("unclosed '[' in host");
            }
            return ipv6(input.substring(1, input.length() - 1));
        }
        if (input.indexOf(':') >= 0) {
            // Only a bare host reaches here (a SOCKS5 domain, or a caller that split the port already).
            return ipv6(input);
        }
        String ascii = toAscii(input);
        if (ascii == null) {
            return idnFailure(input);
        }
        if (endsInNumber(ascii)) {
            return ipv4(ascii);
        }
        return domain(ascii);
    }

    /**
     * Splits {@code host:port} (RFC 9110 authority, IPv6 in brackets) and parses the host.
     * {@code defaultPort} is used when no port is written; pass -1 when one is required (CONNECT).
     *
     * <p>Errors of the authority itself (port, brackets, user info) come back as an {@link Invalid}
     * host with port -1. Reasons never echo the input, so they are safe in a response body.
     */
    public static Authority parseAuthority(String authority, int defaultPort) {
        if (authority == null || authority.isEmpty()) {
            return new Authority(new Invalid("empty authority"), -1);
        }
        if (authority.length() > MAX_HOST_LENGTH + 6) {
            return new Authority(new Invalid("authority longer than " + (MAX_HOST_LENGTH + 6) + " characters"), -1);
        }
        if (authority.indexOf('@') >= 0) {
            return new Authority(new Invalid("user info in the authority is not accepted"), -1);
        }
        String hostPart;
        String portPart;
        if (authority.charAt(0) == '[') {
            int close = authority.indexOf(']');
            if (close < 0) {
                return new Authority(new Invalid("unclosed '[' in authority"), -1);
            }
            hostPart = authority.substring(0, close + 1);
            String rest = authority.substring(close + 1);
            if (rest.isEmpty()) {
                portPart = null;
            } else if (rest.charAt(0) == ':') {
                portPart = rest.substring(1);
            } else {
                return new Authority(new Invalid("unexpected text after ']' in authority"), -1);
            }
        } else {
            int colon = authority.lastIndexOf(':');
            if (colon >= 0 && authority.indexOf(':') != colon) {
                return new Authority(new Invalid("IPv6 address in an authority must be in brackets"), -1);
            }
            hostPart = colon < 0 ? authority : authority.substring(0, colon);
            portPart = colon < 0 ? null : authority.substring(colon + 1);
        }
        int port;
        if (portPart == null || portPart.isEmpty()) {
            // RFC 3986 allows "host:" with an empty port, meaning the default.
            if (defaultPort < 0) {
                return new Authority(new Invalid("port required"), -1);
            }
            port = defaultPort;
        } else {
            port = parsePort(portPart);
            if (port < 0) {
                return new Authority(new Invalid("invalid port"), -1);
            }
        }
        return new Authority(parse(hostPart), port);
    }

    private static int parsePort(String s) {
        if (s.length() > 5) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v >= 1 && v <= 65535 ? v : -1;
    }

    /** The canonical text of an address: dotted quad, or the compressed IPv6 form in brackets. */
    public static String canonicalText(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        return "[" + compressV6(address.getAddress()) + "]";
    }

    // ---------------------------------------------------------------- IPv6

    private static Host ipv6(String inner) {
        if (inner.isEmpty()) {
            return new Invalid("empty IPv6 address");
        }
        if (inner.indexOf(':') < 0) {
            return new Invalid("an IPv4 address is not written in brackets");
        }
        for (int i = 0; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (!(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return new Invalid("invalid IPv6 address");
            }
        }
        try {
            // The brackets make the JDK parse it as an IPv6 literal or throw: never a DNS lookup.
            // The JDK returns ::ffff:a.b.c.d as the Inet4Address itself, which is how it is judged anyway.
            return new IpLiteral(InetAddress.getByName("[" + inner + "]"));
        } catch (UnknownHostException | IllegalArgumentException e) {
            return new Invalid("invalid IPv6 address");
        }
    }

    private static String compressV6(byte[] b) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xFF) << 8) | (b[2 * i + 1] & 0xFF);
        }
        // RFC 5952: the longest run of two or more zero groups becomes "::" (the first such run on a tie).
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- names and IDN

    /** Lower-cased ASCII, punycode for non-ASCII labels; null when IDNA refuses the name. */
    private static String toAscii(String input) {
        boolean ascii = true;
        for (int i = 0; i < input.length(); i++) {
            if (input.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return input.toLowerCase(Locale.ROOT);
        }
        if (hasDeviationCharacter(input)) {
            return null;
        }
        try {
            // Flags 0: no STD3 rules, so that '_' (real in host names) survives; our own check follows.
            // IDNA's NFKC also folds full-width digits and dots, so "１２７.０.０.１" becomes 127.0.0.1 here.
            return IDN.toASCII(input, 0).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean hasDeviationCharacter(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u00DF' || c == '\u03C2' || c == '\u200C' || c == '\u200D') {
                return true;
            }
        }
        return false;
    }

    private static Invalid idnFailure(String input) {
        if (hasDeviationCharacter(input)) {
            return new Invalid("international name with a character that browsers and IDNA2003 map differently"
                    + " (ß, ς, ZWJ, ZWNJ); send its punycode (xn--) form");
        }
        return new Invalid("international name that IDNA cannot convert to ASCII");
    }

    private static Host domain(String ascii) {
        String name = ascii.endsWith(".") ? ascii.substring(0, ascii.length() - 1) : ascii;
        if (name.isEmpty()) {
            return new Invalid("empty host");
        }
        if (name.length() > 253) {
            return new Invalid("host name longer than 253 characters");
        }
        int labelStart = 0;
        for (int i = 0; i <= name.length(); i++) {
            char c = i < name.length() ? name.charAt(i) : '.';
            if (c == '.') {
                int len = i - labelStart;
                if (len == 0) {
                    return new Invalid("empty label in host name");
                }
                if (len > 63) {
                    return new Invalid("label longer than 63 characters in host name");
                }
                labelStart = i + 1;
            } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return new Invalid("character '" + printable(c) + "' not allowed in a host name");
            }
        }
        return new DomainName(name);
    }

    private static String printable(char c) {
        return c >= 0x21 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }

    // ---------------------------------------------------------------- IPv4, as WHATWG reads it

    /**
     * WHATWG "ends in a number": the last label (after one trailing dot) is all digits or a 0x hex
     * number. Such a host is an IPv4 address or invalid, never a name ("foo.123" is invalid).
     */
    private static boolean endsInNumber(String s) {
        int end = s.length();
        if (end > 0 && s.charAt(end - 1) == '.') {
            end--;
            if (end == 0) {
                return false;
            }
        }
        int start = s.lastIndexOf('.', end - 1) + 1;
        if (start == end) {
            return false;
        }
        boolean digits = true;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                digits = false;
                break;
            }
        }
        if (digits) {
            return true;
        }
        if (end - start >= 2 && s.charAt(start) == '0' && (s.charAt(start + 1) == 'x' || s.charAt(start + 1) == 'X')) {
            for (int i = start + 2; i < end; i++) {
                if (Character.digit(s.charAt(i), 16) < 0) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static Host ipv4(String s) {
        int end = s.length();
        if (s.charAt(end - 1) == '.') {
            end--;
        }
        long[] numbers = new long[4];
        int count = 0;
        int start = 0;
        while (start <= end) {
            int dot = s.indexOf('.', start);
            if (dot < 0 || dot > end) {
                dot = end;
            }
            if (count == 4) {
                return new Invalid("ends in a number, so must be an IPv4 address, but has more than 4 parts");
            }
            long n = ipv4Number(s, start, dot);
            if (n == BAD) {
                return new Invalid("ends in a number, so must be an IPv4 address, but a part is not a number");
            }
            if (n == EMPTY_HEX) {
                return new Invalid("IPv4 part '0x' with no digits (browsers read it as 0): refused as ambiguous");
            }
            numbers[count++] = n;
            start = dot + 1;
        }
        for (int i = 0; i < count - 1; i++) {
            if (numbers[i] > 255) {
                return new Invalid("not a valid IPv4 address (a part is over 255)");
            }
        }
        long last = numbers[count - 1];
        if (last >= (1L << (8 * (5 - count)))) {
            return new Invalid("not a valid IPv4 address (out of range)");
        }
        long value = last;
        for (int i = 0; i < count - 1; i++) {
            value += numbers[i] << (8 * (3 - i));
        }
        byte[] b = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return new IpLiteral(InetAddress.getByAddress(b));
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always a valid address", e);
        }
    }

    private static final long BAD = -1;
    private static final long EMPTY_HEX = -2;
    /** Above any valid part (2^32); parsing stops there so that long digit strings cannot overflow. */
    private static final long TOO_BIG = 1L << 33;

    /** WHATWG IPv4 number: decimal, 0x hex, or 0-prefixed octal; BAD when not a number. */
    private static long ipv4Number(String s, int from, int to) {
        if (from == to) {
            return BAD;
        }
        int radix = 10;
        if (to - from >= 2 && s.charAt(from) == '0' && (s.charAt(from + 1) == 'x' || s.charAt(from + 1) == 'X')) {
            radix = 16;
            from += 2;
            if (from == to) {
                return EMPTY_HEX;
            }
        } else if (to - from >= 2 && s.charAt(from) == '0') {
            radix = 8;
            from += 1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = Character.digit(s.charAt(i), radix);
            if (d < 0 || s.charAt(i) >= 0x80) {
                return BAD;
            }
            v = v * radix + d;
            if (v > TOO_BIG) {
                v = TOO_BIG;
            }
        }
        return v;
    }

}
