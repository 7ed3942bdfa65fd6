package dev.portcullis.config;

import java.util.List;

/**
 * A route's {@code compress}: {@code true} (these defaults), {@code false}, or
 * {@code { algorithms: [br, zstd, gzip], min_size: 1KiB, types: [text/*, application/json] }}.
 *
 * @param algorithms in the server's order of preference, used when the client's q-values tie
 * @param minSize    responses whose Content-Length is below this are sent as they are
 * @param types      media types compressed ({@code text/*} matches any text type); parameters are ignored
 */
public record CompressConfig(List<Algorithm> algorithms, long minSize, List<String> types) {
    public static final CompressConfig DEFAULTS = new CompressConfig(List.of(Algorithm.BR, Algorithm.ZSTD, Algorithm.GZIP),
            1024, List.of("text/*", "application/json", "application/javascript", "application/xml",
                    "application/xhtml+xml", "application/rss+xml", "application/atom+xml", "application/wasm",
                    "application/x-javascript", "application/ld+json", "application/manifest+json",
                    "application/problem+json", "application/graphql-response+json", "image/svg+xml",
                    "font/ttf", "font/otf"));

    /** The content codings offered; the token is what {@code Content-Encoding} says. */
    public enum Algorithm {
        BR("br"), ZSTD("zstd"), GZIP("gzip");

        private final String token;

        Algorithm(String token) {
            this.token = token;
        }

        public String token() {
            return token;
        }
    }
}
