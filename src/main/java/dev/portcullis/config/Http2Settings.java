package dev.portcullis.config;

/**
 * {@code listeners[].http2}: HTTP/2 towards clients (h2 by ALPN on https listeners; h2c prior knowledge and
 * Upgrade on http listeners). SETTINGS_MAX_HEADER_LIST_SIZE comes from the listener's
 * {@code limits.max_header_size}; SETTINGS_MAX_FRAME_SIZE stays at the protocol's default (16 KiB).
 *
 * @param enabled              false: HTTP/1.1 only (ALPN offers only http/1.1, h2c is refused)
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS sent to clients
 * @param initialWindowSize    SETTINGS_INITIAL_WINDOW_SIZE: how much request body a client may send on one stream
 *                             before the proxy passed it on (the connection's window is {@link #CONNECTION_WINDOWS}
 *                             times this)
 */
public record Http2Settings(boolean enabled, int maxConcurrentStreams, int initialWindowSize) {
    /** The connection-level receive window, in stream windows: that many stalled uploads can hold it. */
    public static final int CONNECTION_WINDOWS = 8;
    public static final int MAX_WINDOW = Integer.MAX_VALUE;
    public static final Http2Settings DEFAULTS = new Http2Settings(true, 128, 256 * 1024);

    /** The connection's receive window: bounds the request body bytes one connection can have waiting in the proxy. */
    public int connectionWindowSize() {
        return (int) Math.min(MAX_WINDOW, (long) initialWindowSize * CONNECTION_WINDOWS);
    }
}
