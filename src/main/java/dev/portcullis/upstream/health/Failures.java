package dev.portcullis.upstream.health;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.util.Locale;

/** A short reason for a failed probe, for the operator's log. */
final class Failures {
    private Failures() {}

    static String describe(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return "connect timed out";
        }
        String m = cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
        if (cause instanceof ConnectException) {
            return m.contains("refused") ? "connection refused" : "could not connect (" + cause.getMessage() + ")";
        }
        if (m.contains("reset")) {
            return "connection reset";
        }
        return cause.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + cause.getMessage());
    }
}
