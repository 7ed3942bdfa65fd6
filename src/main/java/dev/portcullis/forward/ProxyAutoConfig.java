package dev.portcullis.forward;

import java.net.InetSocketAddress;

/**
 * The PAC file a forward listener serves at {@code /proxy.pac} and {@code /wpad.dat}: a {@code FindProxyForURL}
 * that sends every URL through this proxy, named as the client reached it, except what only makes sense without
 * a proxy: names without a dot (which this proxy never resolves: it uses no search domains) and the client's own
 * machine ({@code localhost}, loopback addresses). There is no {@code DIRECT} fallback after the proxy: a proxy
 * that also filters must not be walked around by clients when it is down.
 *
 * <p>The proxy's name comes from the request's {@code Host} (how the client reached the proxy: through a DNS
 * name, a NAT, a port forward), read by {@link HostSyntax} like any target: a Host that is not a valid
 * {@code host[:port]} gets no PAC file. The text is still written into the script as an escaped string literal,
 * never as code.
 */
public final class ProxyAutoConfig {
    public static final String CONTENT_TYPE = "application/x-ns-proxy-autoconfig";

    private ProxyAutoConfig() {
    }

    /** A {@code GET} or {@code HEAD} of {@code /proxy.pac} or {@code /wpad.dat} (a query is ignored). */
    public static boolean isRequest(String method, String uri) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return false;
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        return path.equals("/proxy.pac") || path.equals("/wpad.dat");
    }

    /**
     * How the client should name this proxy: {@code host:port} from its {@code Host} header (port 80 when it has
     * none, as for any http URL), or the address the client connected to when it sent no Host (HTTP/1.0).
     *
     * @return the authority, or null when the Host header is not a valid {@code host[:port]}
     */
    public static String proxyAuthority(String hostHeader, InetSocketAddress local) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return HostSyntax.canonicalText(local.getAddress()) + ":" + local.getPort();
        }
        HostSyntax.Authority a = HostSyntax.parseAuthority(hostHeader.trim(), 80);
        if (a.host() instanceof HostSyntax.IpLiteral ip) {
            return ip.text() + ":" + a.port();
        }
        if (a.host() instanceof HostSyntax.DomainName name) {
            return name.name() + ":" + a.port();
        }
        return null;
    }

    /** The PAC script for a proxy at {@code authority}. */
    public static String script(String authority) {
        return """
                // Proxy auto-configuration from Portcullis, a forward proxy. Every URL goes through the proxy but
                // names without a dot and this machine's own (localhost, loopback addresses), which go direct.
                // There is no DIRECT fallback: when the proxy is down, requests fail rather than bypass it.
                function FindProxyForURL(url, host) {
                    if (isPlainHostName(host) || host === "localhost" || dnsDomainIs(host, ".localhost")
                            || /^127\\.[0-9]+\\.[0-9]+\\.[0-9]+$/.test(host) || host === "::1" || host === "[::1]") {
                        return "DIRECT";
                    }
                    return %s;
                }
                """.formatted(jsString("PROXY " + authority));
    }

    /**
     * A JavaScript string literal of {@code s}: quotes, backslashes, control characters, the line separators
     * U+2028/U+2029 and everything outside printable ASCII escaped, so no input can end the literal.
     */
    public static String jsString(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c >= 0x7f || c == '\'' || c == '<' || c == '>') {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
