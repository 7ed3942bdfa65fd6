package dev.portcullis.forward;

import dev.portcullis.http.router.Cidr;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * The SSRF guard of {@code deny_private_destinations}: judges the address the proxy is about to
 * connect to (after DNS, so that a name pointing at 127.0.0.1 is caught, and the connection must
 * then go to exactly that address: no DNS-rebinding gap).
 *
 * <p>IPv6 forms that carry an IPv4 address (IPv4-mapped {@code ::ffff:0:0/96}, IPv4-compatible
 * {@code ::/96}, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}, Teredo {@code 2001::/32})
 * are judged by that IPv4 address, since that is where the packets end up. IPv6 outside the
 * global unicast block {@code 2000::/3} is refused as {@code reserved} unless a rule below names
 * it more precisely.
 *
 * <p>{@code allow_private} blocks override the guard for deliberate internal destinations. A
 * cloud metadata address is only opened by an entry that is exactly that address (a /32 or
 * /128), never by a broader block such as 169.254.0.0/16 that happens to cover it.
 *
 * <p>Immutable, allocation-free on the allowed path, safe to share between threads.
 */
public final class DestinationGuard {

    /** Why an address was refused: {@code rule} is a short token for logs, 403 bodies and metric labels. */
    public record Denial(String rule, String detail) {}

    private static final DestinationGuard OFF = new DestinationGuard(false, List.of());

    private final boolean enabled;
    private final List<Cidr> allowPrivate;

    private DestinationGuard(boolean enabled, List<Cidr> allowPrivate) {
        this.enabled = enabled;
        this.allowPrivate = List.copyOf(allowPrivate);
    }

    /** {@code deny_private_destinations: true} with the given {@code allow_private} blocks. */
    public static DestinationGuard denyPrivate(List<Cidr> allowPrivate) {
        return new DestinationGuard(true, allowPrivate);
    }

    /** {@code deny_private_destinations: false}: every address is allowed. */
    public static DestinationGuard off() {
        return OFF;
    }

    /**
     * Parses {@code allow_private} entries.
     *
     * @throws IllegalArgumentException naming the entry that is not an address or CIDR block
     */
    public static List<Cidr> parseAllowPrivate(List<String> entries) {
        return entries.stream().map(Cidr::parse).toList();
    }

    public boolean enabled() {
        return enabled;
    }

    /** Empty when the proxy may connect to {@code address}. */
    public Optional<Denial> check(InetAddress address) {
        if (!enabled) {
            return Optional.empty();
        }
        byte[] raw = address.getAddress();
        String rule = classify(raw);
        if (rule == null || allowedByList(raw, rule)) {
            return Optional.empty();
        }
        return Optional.of(new Denial(rule, detail(address, raw, rule)));
    }

    /**
     * The rule an address falls under with no allow list, or null for an ordinary public address.
     * Exposed for tests and for the admin API's "why was this refused" answers.
     */
    public static String classify(InetAddress address) {
        return classify(address.getAddress());
    }

    private boolean allowedByList(byte[] raw, String rule) {
        if (allowPrivate.isEmpty()) {
            return false;
        }
        long embedded = raw.length == 16 ? embeddedV4(raw) : NONE;
        byte[] v4 = embedded == NONE ? null : v4Bytes((int) embedded);
        for (Cidr c : allowPrivate) {
            boolean covers = c.contains(raw) || (v4 != null && c.contains(v4));
            if (!covers) {
                continue;
            }
            if (!rule.equals("metadata") || c.prefixLength() == c.network().length * 8) {
                return true;
            }
        }
        return false;
    }

    private static String detail(InetAddress address, byte[] raw, String rule) {
        String text = HostSyntax.canonicalText(address);
        if (raw.length == 16) {
            long v4 = embeddedV4(raw);
            if (v4 != NONE) {
                return text + " carries the IPv4 address " + v4Text((int) v4) + " (" + rule + ")";
            }
        }
        return text + " (" + rule + ")";
    }

    // ---------------------------------------------------------------- classification

    /** {@link #embeddedV4} when the address carries no IPv4 address. */
    private static final long NONE = -1;

    private static String classify(byte[] a) {
        if (a.length == 4) {
            return classifyV4(toInt(a, 0));
        }
        if (a.length != 16) {
            return "reserved";
        }
        return classifyV6(a);
    }

    /** Ordered most specific first: metadata inside link-local and CGNAT, broadcast inside 240/4. */
    private static final int[][] V4_BLOCKS = {
            // {network, prefix, index into V4_RULES}
            {v4(169, 254, 169, 254), 32, 0},   // AWS, GCP, Azure, OCI, DigitalOcean instance metadata
            {v4(169, 254, 170, 2), 32, 0},     // AWS ECS task metadata
            {v4(169, 254, 170, 23), 32, 0},    // AWS EKS pod identity agent
            {v4(100, 100, 100, 200), 32, 0},   // Alibaba Cloud metadata (inside CGNAT)
            {v4(255, 255, 255, 255), 32, 1},
            {v4(0, 0, 0, 0), 8, 2},            // "this network"; connecting to 0.0.0.0 reaches the local host
            {v4(10, 0, 0, 0), 8, 3},
            {v4(100, 64, 0, 0), 10, 4},
            {v4(127, 0, 0, 0), 8, 5},
            {v4(169, 254, 0, 0), 16, 6},
            {v4(172, 16, 0, 0), 12, 3},
            {v4(192, 0, 0, 0), 24, 7},         // IETF protocol assignments
            {v4(192, 0, 2, 0), 24, 8},
            {v4(192, 88, 99, 0), 24, 7},       // former 6to4 relay anycast
            {v4(192, 168, 0, 0), 16, 3},
            {v4(198, 18, 0, 0), 15, 9},
            {v4(198, 51, 100, 0), 24, 8},
            {v4(203, 0, 113, 0), 24, 8},
            {v4(224, 0, 0, 0), 4, 10},
            {v4(240, 0, 0, 0), 4, 7},
    };
    private static final String[] V4_RULES = {
            "metadata", "broadcast", "unspecified", "private", "cgnat", "loopback", "link-local",
            "reserved", "documentation", "benchmarking", "multicast",
    };

    private static String classifyV4(int ip) {
        for (int[] block : V4_BLOCKS) {
            int prefix = block[1];
            int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            if ((ip & mask) == block[0]) {
                return V4_RULES[block[2]];
            }
        }
        return null;
    }

    private static String classifyV6(byte[] a) {
        int g0 = group(a, 0);
        boolean firstFiveZero = g0 == 0 && group(a, 1) == 0 && group(a, 2) == 0 && group(a, 3) == 0 && group(a, 4) == 0;
        if (firstFiveZero && group(a, 5) == 0 && group(a, 6) == 0) {
            int last = group(a, 7);
            if (last == 0) {
                return "unspecified";
            }
            if (last == 1) {
                return "loopback";
            }
        }
        long embedded = embeddedV4(a);
        if (embedded != NONE) {
            return classifyV4((int) embedded);
        }
        if (firstFiveZero) {
            return "reserved";                          // ::/80 other than the forms above
        }
        // AWS instance metadata and EKS pod identity over IPv6 (inside fc00::/7).
        if (g0 == 0xfd00 && group(a, 1) == 0x0ec2 && group(a, 2) == 0 && group(a, 3) == 0
                && group(a, 4) == 0 && group(a, 5) == 0 && group(a, 6) == 0
                && (group(a, 7) == 0x254 || group(a, 7) == 0x23)) {
            return "metadata";
        }
        if ((g0 & 0xfe00) == 0xfc00) {
            return "unique-local";                      // fc00::/7
        }
        if ((g0 & 0xffc0) == 0xfe80) {
            return "link-local";                        // fe80::/10
        }
        if ((g0 & 0xffc0) == 0xfec0) {
            return "site-local";                        // fec0::/10, deprecated, still routed on some networks
        }
        if ((g0 & 0xff00) == 0xff00) {
            return "multicast";                         // ff00::/8
        }
        if (g0 == 0x2001 && group(a, 1) == 0x0db8) {
            return "documentation";                     // 2001:db8::/32
        }
        if (g0 == 0x3fff && (group(a, 1) & 0xf000) == 0) {
            return "documentation";                     // 3fff::/20 (RFC 9637)
        }
        if (g0 == 0x2001 && group(a, 1) == 0x0002 && group(a, 2) == 0) {
            return "benchmarking";                      // 2001:2::/48
        }
        if (g0 == 0x2001 && (group(a, 1) & 0xfff0) == 0x0010) {
            return "reserved";                          // 2001:10::/28 ORCHID
        }
        if (g0 == 0x2001 && (group(a, 1) & 0xfff0) == 0x0020) {
            return "reserved";                          // 2001:20::/28 ORCHIDv2
        }
        if (g0 == 0x0064 && group(a, 1) == 0xff9b) {
            return "reserved";                          // 64:ff9b:1::/48 local-use NAT64 and the rest of 64:ff9b::/32
        }
        if (g0 == 0x0100 && group(a, 1) == 0 && group(a, 2) == 0 && group(a, 3) == 0) {
            return "reserved";                          // 100::/64 discard-only
        }
        if (g0 == 0x5f00) {
            return "reserved";                          // 5f00::/16 SRv6 SIDs
        }
        if ((g0 & 0xe000) != 0x2000) {
            return "reserved";                          // outside global unicast 2000::/3: unassigned
        }
        return null;
    }

    /** The IPv4 address (as an unsigned 32-bit value) an IPv6 address delivers to, or {@link #NONE}. */
    private static long embeddedV4(byte[] a) {
        int g0 = group(a, 0);
        boolean firstFiveZero = g0 == 0 && group(a, 1) == 0 && group(a, 2) == 0 && group(a, 3) == 0 && group(a, 4) == 0;
        int g5 = group(a, 5);
        if (firstFiveZero && (g5 == 0xffff || g5 == 0)) {
            // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; :: and ::1 are handled before)
            return toInt(a, 12) & 0xFFFF_FFFFL;
        }
        if (g0 == 0x0064 && group(a, 1) == 0xff9b && group(a, 2) == 0 && group(a, 3) == 0
                && group(a, 4) == 0 && g5 == 0) {
            return toInt(a, 12) & 0xFFFF_FFFFL;          // 64:ff9b::a.b.c.d, NAT64 well-known prefix
        }
        if (g0 == 0x2002) {
            return toInt(a, 2) & 0xFFFF_FFFFL;           // 2002:AABB:CCDD::/48, 6to4
        }
        if (g0 == 0x2001 && group(a, 1) == 0) {
            return ~toInt(a, 12) & 0xFFFF_FFFFL;         // Teredo: the client's address, bits inverted
        }
        return NONE;
    }

    private static int group(byte[] a, int i) {
        return ((a[2 * i] & 0xFF) << 8) | (a[2 * i + 1] & 0xFF);
    }

    private static int toInt(byte[] a, int off) {
        return ((a[off] & 0xFF) << 24) | ((a[off + 1] & 0xFF) << 16) | ((a[off + 2] & 0xFF) << 8) | (a[off + 3] & 0xFF);
    }

    private static int v4(int a, int b, int c, int d) {
        return (a << 24) | (b << 16) | (c << 8) | d;
    }

    private static byte[] v4Bytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static String v4Text(int v) {
        return (v >>> 24) + "." + ((v >>> 16) & 0xFF) + "." + ((v >>> 8) & 0xFF) + "." + (v & 0xFF);
    }
}
