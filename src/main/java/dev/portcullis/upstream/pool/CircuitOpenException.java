package dev.portcullis.upstream.pool;

import java.io.IOException;

/** A new connection was not opened: the upstream's circuit breaker is at the limit in the message. */
public final class CircuitOpenException extends IOException {
    public CircuitOpenException(String limit) {
        super(limit);
    }
}
