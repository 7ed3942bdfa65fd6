package dev.portcullis.upstream.pool;

import java.io.IOException;

/**
 * The upstream said it did not process the request: an HTTP/2 stream refused (RST_STREAM REFUSED_STREAM) or above
 * the last stream id of a GOAWAY. Sending it again, elsewhere or on a new connection, is safe whatever its method,
 * as long as the proxy still has all of it (no body bytes went).
 */
public final class UnprocessedRequestException extends IOException {
    public UnprocessedRequestException(String message) {
        super(message);
    }
}
