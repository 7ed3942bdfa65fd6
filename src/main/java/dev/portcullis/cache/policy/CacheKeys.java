package dev.portcullis.cache.policy;

import dev.portcullis.config.RouteCacheConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The primary cache key of a route (RFC 9111 section 2): method-independent (a HEAD is answered from the GET's entry),
 * built once per request from the route's {@code cache.key} ({@link RouteCacheConfig.Key}).
 *
 * <p>The key starts with its <em>base</em>, {@code scheme://host[:port]/path[?query]}: scheme and host lower case,
 * the scheme's default port (80 for http, 443 for https) left out, an empty path as {@code /}, the path and query
 * kept byte for byte (percent-encoding is not decoded or re-cased: {@code %2F} and {@code %2f} are different keys;
 * the proxy normalises dot-segments before routing), a bare {@code ?} dropped, and the query shaped by
 * {@code key.query}: {@code as_is}; {@code sorted} (parameters in name order, stable, so repeated names keep their
 * order; empty parameters dropped); {@code ignore}; {@code only: [names]} / {@code ignore_params: [names]} (names
 * compared exactly as written in the query, before percent-decoding). Then, one line each, the configured headers
 * ({@code h:name=value}, all lines comma-joined, or {@code h:name!} when absent) and cookies ({@code c:name=value}
 * or {@code c:name!}). Lines are separated by {@code \n}, which no URI or header value can contain, so a purge by
 * URL (or an invalidation) finds every entry of a base by its prefix up to the first {@code \n}.
 */
public final class CacheKeys {
    private final RouteCacheConfig.Key config;
    private final boolean baseOnly;

    public CacheKeys(RouteCacheConfig.Key config) {
        this.config = config;
        this.baseOnly = config.headers().isEmpty() && config.cookies().isEmpty();
    }

    /** What the key is made of (two routes with equal ones key alike). */
    public RouteCacheConfig.Key config() {
        return config;
    }

    /**
     * The full key.
     *
     * @param scheme  {@code http} or {@code https} as the client reached us
     * @param host    the Host header / {@code :authority} (may carry a port), null when absent
     * @param uri     the request target: origin-form {@code /path?query}, or absolute-form (which then supplies
     *                scheme and host)
     * @param request the request headers (for key headers and cookies)
     */
    public String key(String scheme, String host, String uri, HttpHeaders request) {
        StringBuilder sb = new StringBuilder(64 + uri.length());
        base(sb, scheme, host, uri);
        if (baseOnly) {
            return sb.toString();
        }
        for (String name : config.headers()) {
            sb.append("\nh:").append(name);
            if (!request.contains(name)) {
                sb.append('!');
                continue;
            }
            sb.append('=');
            String sep = "";
            for (String value : request.getAll(name)) { // getAll keeps field order; Netty's value iterators do not
                sb.append(sep).append(value.trim());
                sep = ",";
            }
        }
        if (!config.cookies().isEmpty()) {
            List<Cookie> cookies = cookies(request);
            for (String name : config.cookies()) {
                sb.append("\nc:").append(name);
                String value = null;
                for (Cookie c : cookies) {
                    if (c.name().equals(name)) {
                        value = c.value();
                        break;
                    }
                }
                if (value == null) {
                    sb.append('!');
                } else {
                    sb.append('=').append(value);
                }
            }
        }
        return sb.toString();
    }

    /** The base of the key ({@code scheme://host/path?query}), for purge by URL and invalidation. */
    public String base(String scheme, String host, String uri) {
        StringBuilder sb = new StringBuilder(32 + uri.length());
        base(sb, scheme, host, uri);
        return sb.toString();
    }

    /** The base of a full key: everything before the first line break. */
    public static String baseOf(String key) {
        int nl = key.indexOf('\n');
        return nl < 0 ? key : key.substring(0, nl);
    }

    private void base(StringBuilder sb, String scheme, String host, String uri) {
        int pathStart = 0;
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd > 0 && uri.charAt(0) != '/') { // absolute-form (forward proxy)
            scheme = uri.substring(0, schemeEnd);
            int authorityStart = schemeEnd + 3;
            int authorityEnd = authorityStart;
            while (authorityEnd < uri.length() && "/?#".indexOf(uri.charAt(authorityEnd)) < 0) {
                authorityEnd++;
            }
            host = uri.substring(authorityStart, authorityEnd);
            int at = host.lastIndexOf('@');
            if (at >= 0) {
                host = host.substring(at + 1); // userinfo is not part of the origin
            }
            pathStart = authorityEnd;
        }
        String s = scheme.toLowerCase(Locale.ROOT);
        sb.append(s).append("://");
        appendHost(sb, s, host == null ? "" : host);
        int end = uri.indexOf('#', pathStart);
        if (end < 0) {
            end = uri.length();
        }
        int q = uri.indexOf('?', pathStart);
        if (q > end) {
            q = -1;
        }
        int pathEnd = q < 0 ? end : q;
        if (pathEnd == pathStart || uri.charAt(pathStart) != '/') {
            sb.append('/');
        }
        sb.append(uri, pathStart, pathEnd);
        if (q >= 0 && q + 1 < end) {
            query(sb, uri.substring(q + 1, end));
        }
    }

    /** Host lower case, the scheme's default port removed (IPv6 literals keep their brackets). */
    static void appendHost(StringBuilder sb, String scheme, String host) {
        int colon = host.lastIndexOf(':');
        int bracket = host.lastIndexOf(']');
        String name = host;
        String port = null;
        if (colon > bracket) {
            name = host.substring(0, colon);
            port = host.substring(colon + 1);
        }
        sb.append(name.toLowerCase(Locale.ROOT));
        boolean defaultPort = port == null || port.isEmpty()
                || "http".equals(scheme) && "80".equals(port) || "https".equals(scheme) && "443".equals(port);
        if (!defaultPort) {
            sb.append(':').append(port);
        }
    }

    private void query(StringBuilder sb, String query) {
        switch (config.query()) {
            case AS_IS -> sb.append('?').append(query);
            case IGNORE -> {
            }
            case SORTED, ONLY, IGNORE_PARAMS -> {
                List<String> params = new ArrayList<>();
                for (String p : query.split("&")) {
                    if (p.isEmpty()) {
                        continue;
                    }
                    String name = nameOf(p);
                    boolean listed = config.queryParams().contains(name);
                    if (config.query() == RouteCacheConfig.Query.ONLY && !listed
                            || config.query() == RouteCacheConfig.Query.IGNORE_PARAMS && listed) {
                        continue;
                    }
                    params.add(p);
                }
                if (config.query() == RouteCacheConfig.Query.SORTED) {
                    params.sort((a, b) -> nameOf(a).compareTo(nameOf(b))); // List.sort is stable
                }
                char sep = '?';
                for (String p : params) {
                    sb.append(sep).append(p);
                    sep = '&';
                }
            }
            default -> throw new AssertionError(config.query());
        }
    }

    private static String nameOf(String param) {
        int eq = param.indexOf('=');
        return eq < 0 ? param : param.substring(0, eq);
    }

    private static List<Cookie> cookies(HttpHeaders request) {
        List<Cookie> out = new ArrayList<>();
        for (String line : request.getAll(HttpHeaderNames.COOKIE)) {
            out.addAll(ServerCookieDecoder.LAX.decodeAll(line));
        }
        return out;
    }
}
