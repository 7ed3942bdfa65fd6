package dev.portcullis.http;

import io.netty.channel.ConnectTimeoutException;

/** What a failed upstream connect is called in replies and logs. */
final class ConnectFailures {
    private ConnectFailures() {}

    /** A short reason for a failed connect that is safe to show to the client: no address, no port. */
    static String reason(Throwable cause) {
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
}
