package dev.portcullis.http.gateway;

import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys a route's {@code auth.jwt} verifies signatures with: a JWKS file read at load, or a JWKS URL fetched
 * off the event loops (the JDK's HTTP client, on its own threads). A URL's keys are fetched at load, again every
 * {@link #REFRESH_EVERY} when requests come, and at once when a token names a key id the set does not have
 * (an identity provider rotating its keys), but never more often than every {@link #MIN_REFETCH}: a flood of
 * tokens with made-up key ids costs at most one fetch per that interval. A failed fetch keeps the keys it had.
 */
final class JwksSource {
    private static final Logger log = LoggerFactory.getLogger(JwksSource.class);
    static final Duration REFRESH_EVERY = Duration.ofMinutes(10);
    static final Duration MIN_REFETCH = Duration.ofSeconds(10);
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);
    /** A JWKS larger than this is refused (a few keys take a few KiB). */
    static final int MAX_BYTES = 1 << 20;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL).build();

    private final String url;
    private final String route;
    private volatile JWKSet keys;
    private volatile CompletableFuture<JWKSet> inflight;
    private volatile long lastFetchNanos;

    private JwksSource(String url, String route, JWKSet keys) {
        this.url = url;
        this.route = route;
        this.keys = keys;
    }

    /** @throws IllegalArgumentException naming the file and what is wrong with it */
    static JwksSource file(Path file, String route) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return new JwksSource(null, route, JWKSet.parse(text));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the JWKS file " + file + ": " + e.getMessage(), e);
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException(file + " is not a JWKS (RFC 7517 JSON with a 'keys' array): "
                    + e.getMessage(), e);
        }
    }

    /** Starts the first fetch now; requests wait for it. */
    static JwksSource url(String url, String route) {
        JwksSource s = new JwksSource(url, route, null);
        s.fetch();
        return s;
    }

    /** The keys as last loaded; null while the first fetch of a URL has not succeeded. */
    JWKSet current() {
        if (url != null && keys != null && System.nanoTime() - lastFetchNanos > REFRESH_EVERY.toNanos()) {
            refresh(); // in the background: this request uses the keys it has
        }
        return keys;
    }

    /** Whether {@link #refresh} would fetch now (a URL, and the last fetch long enough ago). */
    boolean mayRefresh() {
        return url != null && (inflight != null || System.nanoTime() - lastFetchNanos > MIN_REFETCH.toNanos());
    }

    /** The keys after a fetch (the one running, or a new one when allowed), else the keys there are. */
    CompletableFuture<JWKSet> refresh() {
        CompletableFuture<JWKSet> f = inflight;
        if (f != null) {
            return f;
        }
        if (!mayRefresh()) {
            return CompletableFuture.completedFuture(keys);
        }
        return fetch();
    }

    private synchronized CompletableFuture<JWKSet> fetch() {
        if (inflight != null) {
            return inflight;
        }
        lastFetchNanos = System.nanoTime();
        CompletableFuture<JWKSet> f = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(url)).timeout(FETCH_TIMEOUT)
                        .header("Accept", "application/jwk-set+json, application/json").GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream())
                .thenApply(this::parse)
                .handle((set, err) -> {
                    synchronized (this) {
                        inflight = null;
                    }
                    if (err != null) {
                        Throwable c = err.getCause() != null ? err.getCause() : err;
                        log.warn("route {}: cannot fetch the JWKS from {}: {}; {}", route, url, c.toString(),
                                keys == null ? "tokens are refused until a fetch succeeds"
                                        : "the keys fetched before stay in use");
                        return keys;
                    }
                    keys = set;
                    return set;
                });
        inflight = f;
        return f;
    }

    private JWKSet parse(HttpResponse<java.io.InputStream> r) {
        try (java.io.InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw new IllegalStateException("status " + r.statusCode());
            }
            byte[] body = in.readNBytes(MAX_BYTES + 1);
            if (body.length > MAX_BYTES) {
                throw new IllegalStateException("larger than " + MAX_BYTES + " bytes");
            }
            return JWKSet.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (java.text.ParseException e) {
            throw new IllegalStateException("not a JWKS: " + e.getMessage(), e);
        }
    }
}
