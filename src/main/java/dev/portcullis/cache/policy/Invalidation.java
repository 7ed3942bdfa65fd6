package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Invalidation after unsafe requests (RFC 9111 section 4.4): when a method that is not known to be safe (anything
 * but GET, HEAD, OPTIONS, TRACE) gets a non-error answer (2xx or 3xx), the stored responses for the target URI are
 * invalidated, and so are those for the {@code Location} and {@code Content-Location} URIs (resolved against the
 * target) when they have the same origin (scheme, host and port). Other origins are never touched: that would let
 * one site purge another's objects.
 */
public final class Invalidation {
    private Invalidation() {
    }

    /** GET, HEAD, OPTIONS and TRACE (RFC 9110 section 9.2.1); every other method, unknown ones included, is unsafe. */
    public static boolean isSafe(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE" -> true;
            default -> false;
        };
    }

    /**
     * The key bases ({@link CacheKeys#base}) to invalidate, target first; empty when nothing is.
     *
     * @param keys the route's key builder (its query shaping applies to the invalidated URIs too)
     */
    public static List<String> targets(String method, int status, String scheme, String host, String uri,
                                       HttpHeaders response, CacheKeys keys) {
        if (isSafe(method) || status < 200 || status > 399) {
            return List.of();
        }
        List<String> out = new ArrayList<>(3);
        String target = keys.base(scheme, host, uri);
        out.add(target);
        URI base = parse(target);
        if (base == null) {
            return out;
        }
        for (CharSequence field : List.of(HttpHeaderNames.LOCATION, HttpHeaderNames.CONTENT_LOCATION)) {
            String value = response.get(field);
            if (value == null || value.isBlank()) {
                continue;
            }
            URI other = parse(value.trim());
            if (other == null) {
                continue;
            }
            URI resolved = base.resolve(other);
            if (!sameOrigin(base, resolved)) {
                continue;
            }
            String path = resolved.getRawPath() == null || resolved.getRawPath().isEmpty() ? "/" : resolved.getRawPath();
            String pathAndQuery = resolved.getRawQuery() == null ? path : path + "?" + resolved.getRawQuery();
            // Host and port only: a userinfo part ("user@host") is not part of the origin or the key.
            String authority = resolved.getPort() >= 0 ? resolved.getHost() + ":" + resolved.getPort()
                    : resolved.getHost();
            String key = keys.base(resolved.getScheme(), authority, pathAndQuery);
            if (!out.contains(key)) {
                out.add(key);
            }
        }
        return out;
    }

    private static URI parse(String s) {
        try {
            return new URI(s);
        } catch (URISyntaxException e) {
            return null; // a malformed Location invalidates nothing beyond the target
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        if (a.getScheme() == null || b.getScheme() == null || a.getHost() == null || b.getHost() == null) {
            return false;
        }
        String scheme = a.getScheme().toLowerCase(Locale.ROOT);
        return scheme.equals(b.getScheme().toLowerCase(Locale.ROOT))
                && a.getHost().equalsIgnoreCase(b.getHost())
                && port(scheme, a.getPort()) == port(scheme, b.getPort());
    }

    private static int port(String scheme, int port) {
        if (port >= 0) {
            return port;
        }
        return "https".equals(scheme) ? 443 : 80;
    }
}
