package dev.portcullis.http;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The client's address, worked out once per connection in the forms the proxy needs: text for logs and
 * X-Forwarded-For, bytes for source CIDR matching, and the RFC 7239 {@code for=} value (IPv6 quoted).
 */
record ClientAddress(String ip, int port, byte[] bytes, String forwardedFor) {
    static final ClientAddress UNKNOWN = new ClientAddress("-", 0, new byte[0], "unknown");

    static ClientAddress of(SocketAddress remote) {
        if (remote instanceof InetSocketAddress a && a.getAddress() != null) {
            String ip = a.getAddress().getHostAddress();
            String forwarded = a.getAddress() instanceof Inet6Address ? "\"[" + ip + "]\"" : ip;
            return new ClientAddress(ip, a.getPort(), a.getAddress().getAddress(), forwarded);
        }
        return UNKNOWN;
    }
}
