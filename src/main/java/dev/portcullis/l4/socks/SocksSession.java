package dev.portcullis.l4.socks;

import dev.portcullis.http.ListenerContext;
import dev.portcullis.observe.AccessLog;
import dev.portcullis.observe.AccessLogEntry;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * What is known about one SOCKS5 connection, for its log lines and its access log line: the client, when it came,
 * the command and destination it asked for, and where the proxy connected.
 *
 * <p>The access log line uses the same fields as HTTP requests: method {@code CONNECT} (or the refused command),
 * the destination as {@code host:port} for the URI, protocol {@code SOCKS5}, and for the status the HTTP status
 * that means the same ({@link #httpStatus}), so dashboards and log queries that count 403s and 502s count SOCKS5
 * refusals too.
 */
final class SocksSession {
    final String listener;
    final String clientIp;
    final int clientPort;
    final byte[] clientBytes;
    private final long startEpochMillis = System.currentTimeMillis();
    private final long startNanos = System.nanoTime();
    String requestId;
    String method;
    /** The destination host as the client wrote it (a name, or an address). */
    String host;
    int port;
    /** The address connected to, as {@code ip:port}. */
    String upstreamAddress;

    SocksSession(String listener, SocketAddress remote) {
        this.listener = listener;
        if (remote instanceof InetSocketAddress a && a.getAddress() != null) {
            this.clientIp = a.getAddress().getHostAddress();
            this.clientPort = a.getPort();
            this.clientBytes = a.getAddress().getAddress();
        } else {
            this.clientIp = "-";
            this.clientPort = 0;
            this.clientBytes = new byte[0];
        }
    }

    /** {@code host:port}, an IPv6 address in brackets. */
    String target() {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Logs the command's outcome once it is known: a refusal at once, a tunnel when it closes. */
    void log(ListenerContext context, int status, long bytesToClient, long bytesFromClient) {
        AccessLog accessLog = context.accessLog();
        if (!accessLog.enabled()) {
            return;
        }
        accessLog.log(new AccessLogEntry(startEpochMillis, listener, clientIp, clientPort, method, target(), null,
                "SOCKS5", "socks5", host, requestId, null, null, upstreamAddress, status, bytesToClient,
                bytesFromClient, (System.nanoTime() - startNanos) / 1000, null, null));
    }

    /** The HTTP status with the same meaning as a SOCKS5 reply, for the access log. */
    static int httpStatus(Socks5CommandStatus status) {
        if (status.equals(Socks5CommandStatus.SUCCESS)) {
            return 200;
        } else if (status.equals(Socks5CommandStatus.FORBIDDEN)) {
            return 403;
        } else if (status.equals(Socks5CommandStatus.TTL_EXPIRED)) {
            return 504;
        } else if (status.equals(Socks5CommandStatus.COMMAND_UNSUPPORTED)) {
            return 501;
        } else if (status.equals(Socks5CommandStatus.ADDRESS_UNSUPPORTED)) {
            return 400;
        }
        return 502; // host or network unreachable, connection refused, general failure: the destination failed
    }
}
