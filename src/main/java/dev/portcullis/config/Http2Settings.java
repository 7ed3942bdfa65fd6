package dev.portcullis.config;

/**
 * {@code listeners[].http2}: HTTP/2 towards clients (h2 by ALPN on https listeners; h2c prior knowledge and
 * Upgrade on http listeners).
 *
 * @param enabled              false: HTTP/1.1 only (ALPN offers only http/1.1, h2c is refused)
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS sent to clients
 */
public record Http2Settings(boolean enabled, int maxConcurrentStreams) {
    public static final Http2Settings DEFAULTS = new Http2Settings(true, 128);
}
