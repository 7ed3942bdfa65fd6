package dev.portcullis.http;

import dev.portcullis.upstream.pool.UpstreamConnectException;
import io.netty.channel.ConnectTimeoutException;

/** What a failed upstream connect is called in replies and logs. */
final class ConnectFailures {
    private ConnectFailures() {}

    /** A short reason for a failed connect that is safe to show to the client: no address, no port. */
    static String reason(Throwable cause) {
        if (cause instanceof UpstreamConnectException u) {
            return u.getMessage(); // written to be shown: "TLS handshake failed: certificate not trusted"
        }
        if (cause instanceof ConnectTimeoutException) {
            return "connection timed out";
        }
        if (cause instanceof java.net.ConnectException) {
            String m = cause.getMessage();
            if (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("refused")) {
                return "connection refused";
            }
            return "could not connect";
        }
        if (cause instanceof java.net.UnknownHostException || cause instanceof java.nio.channels.UnresolvedAddressException) {
            return "host name not resolved";
        }
        if (cause instanceof java.net.NoRouteToHostException) {
            return "no route to host";
        }
        return cause.getClass().getSimpleName();
    }

    /** For the operator's log: the whole story, address included. */
    static String detail(Throwable cause) {
        if (cause instanceof UpstreamConnectException u) {
            return u.detail();
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }
}
