package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import dev.portcullis.http.router.RouteTable;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * What the proxy refuses before routing, and the parsing of the request target. Everything refused here is
 * answered by the proxy and never forwarded; a framing problem also closes the connection, since the bytes
 * after it can no longer be trusted to start a new request.
 */
final class RequestChecks {
    private RequestChecks() {
    }

    /**
     * Everything checked on a request head, in order: the decoder's verdict (obs-fold included, see
     * {@link StrictRequestDecoder}), then {@link #check}.
     *
     * @return the reply refusing the request, or null when it may be routed
     */
    static LocalReply head(Exchange ex, HttpRequest req, ListenerLimits limits) {
        LocalReply problem = decoderFailure(req.decoderResult(), limits.maxRequestLine(), limits.maxHeaderSize());
        return problem != null ? problem : check(ex, req);
    }

    /** @return a reply for a request the decoder could not parse, or null when it parsed */
    static LocalReply decoderFailure(DecoderResult result, int maxRequestLine, int maxHeaderSize) {
        if (!result.isFailure()) {
            return null;
        }
        Throwable c = result.cause();
        if (c instanceof TooLongHttpLineException) {
            return LocalReply.fatal(414, "request line longer than " + maxRequestLine + " bytes");
        }
        if (c instanceof TooLongHttpHeaderException) {
            return LocalReply.fatal(431, "request headers larger than " + maxHeaderSize + " bytes");
        }
        return LocalReply.fatal(400, "malformed request: " + describe(c));
    }

    static String describe(Throwable c) {
        String m = c.getMessage();
        return m == null || m.isEmpty() ? c.getClass().getSimpleName() : m;
    }

    /**
     * Checks the head and fills the exchange's host, path and query.
     *
     * @return null when the request may be routed
     */
    static LocalReply check(Exchange ex, HttpRequest req) {
        LocalReply problem = common(req);
        if (problem != null) {
            return problem;
        }
        if (HttpMethod.CONNECT.equals(req.method())) {
            return LocalReply.error(405, "CONNECT is only served by listeners in forward mode");
        }
        HttpHeaders h = req.headers();
        String host = h.get(HttpHeaderNames.HOST);
        String uri = req.uri();
        String target;
        if (!uri.isEmpty() && uri.charAt(0) == '/') {
            target = uri;
        } else if ("*".equals(uri) && HttpMethod.OPTIONS.equals(req.method())) {
            target = "*";
        } else if (startsWithIgnoreCase(uri, "http://") || startsWithIgnoreCase(uri, "https://")) {
            int authStart = uri.indexOf("//") + 2;
            int pathStart = indexOfAny(uri, authStart);
            String authority = uri.substring(authStart, pathStart);
            if (authority.isEmpty() || authority.indexOf('@') >= 0 || !isValidHost(authority)) {
                return LocalReply.fatal(400, "malformed absolute-form request target");
            }
            // RFC 9112 §3.2.2: the target's authority wins over Host. A reverse proxy is not an open proxy, so
            // a target naming another host than Host is refused rather than silently rerouted.
            if (host != null && !RouteTable.normalizeHost(authority).equals(RouteTable.normalizeHost(host))) {
                return LocalReply.fatal(400, "absolute-form target names host '" + authority
                        + "' but Host is '" + host + "'; this listener is a reverse proxy, not a forward proxy");
            }
            if (host == null) {
                host = authority;
                h.set(HttpHeaderNames.HOST, authority);
            }
            target = pathStart == uri.length() ? "/" : uri.substring(pathStart);
            if (target.charAt(0) == '?') {
                target = "/" + target;
            }
        } else {
            return LocalReply.fatal(400, "request target must start with '/' (origin-form)");
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        ex.query = q < 0 ? null : target.substring(q + 1);
        int hash = path.indexOf('#');
        if (hash >= 0) {
            return LocalReply.fatal(400, "request target must not contain a fragment");
        }
        ex.path = PathNormalizer.removeDotSegments(path);
        ex.host = RouteTable.normalizeHost(host);
        return null;
    }

    /**
     * What every request head must satisfy, whatever the listener's mode: one valid Host (required in HTTP/1.1),
     * HTTP/1.x on this parser, no control character in the target.
     */
    static LocalReply common(HttpRequest req) {
        HttpHeaders h = req.headers();
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return LocalReply.fatal(400, "more than one Host header");
        }
        String host = hosts.isEmpty() ? null : hosts.get(0);
        if (host == null && req.protocolVersion() == HttpVersion.HTTP_1_1) {
            return LocalReply.fatal(400, "HTTP/1.1 request without a Host header");
        }
        if (req.protocolVersion().majorVersion() != 1) {
            // Netty parses any HTTP/x.y; only HTTP/1.x is spoken on this parser (RFC 9110 §6.2).
            return LocalReply.fatal(505, "HTTP version " + req.protocolVersion().text() + " is not supported");
        }
        // RFC 9112 §3.2: a Host with an invalid value is answered with 400 (it would also reach the upstream,
        // X-Forwarded-Host and Forwarded as it is).
        if (host != null && !isValidHost(host)) {
            return LocalReply.fatal(400, "invalid Host header");
        }
        String uri = req.uri();
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                // Netty's request line parser lets control characters through in the target.
                return LocalReply.fatal(400, "control character in the request target");
            }
        }
        return null;
    }

    /** {@code uri-host [":" port]} (RFC 3986 §3.2.2): a reg-name, an IPv4 address or a bracketed IPv6 literal. */
    static boolean isValidHost(String host) {
        int i = 0;
        int n = host.length();
        if (n > 0 && host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 2) {
                return false;
            }
            for (i = 1; i < close; i++) {
                char c = host.charAt(i);
                if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
                    return false;
                }
            }
            i = close + 1;
        } else {
            for (; i < n && host.charAt(i) != ':'; i++) {
                char c = host.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || "-._~%!$&'()*+,;=".indexOf(c) >= 0;
                if (!ok) {
                    return false;
                }
            }
        }
        if (i == n) {
            return true;
        }
        if (host.charAt(i) != ':') {
            return false;
        }
        for (i++; i < n; i++) {
            char c = host.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWithIgnoreCase(String s, String prefix) {
        return s.regionMatches(true, 0, prefix, 0, prefix.length());
    }

    private static int indexOfAny(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '/' || c == '?') {
                return i;
            }
        }
        return s.length();
    }
}
