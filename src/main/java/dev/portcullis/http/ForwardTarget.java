package dev.portcullis.http;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Locale;

/**
 * Where a request to a forward proxy goes: {@code CONNECT host:port} (authority-form, RFC 9110 section 9.3.6) or an
 * absolute-form {@code http://host[:port]/path?query} (RFC 9112 section 3.2.2). The target is taken as the client
 * wrote it: a forward proxy does not normalise the path (the origin decides what its URLs mean).
 *
 * @param host   as written (IP literals keep their brackets off; checked by the destination rules)
 * @param origin {@code path?query} to send to the origin ("/" when absent); null for CONNECT
 */
record ForwardTarget(boolean connect, String host, int port, String origin) {

    /** The target, or a reply saying why the request cannot be forwarded. */
    sealed interface Parsed {}

    record Ok(ForwardTarget target) implements Parsed {}

    record Refused(LocalReply reply) implements Parsed {}

    static Parsed of(HttpRequest req) {
        String uri = req.uri();
        if (HttpMethod.CONNECT.equals(req.method())) {
            int colon = uri.lastIndexOf(':');
            if (colon <= 0 || colon == uri.length() - 1 || uri.indexOf('/') >= 0 || uri.indexOf('@') >= 0) {
                return refused(400, "CONNECT needs host:port (authority-form), found '" + uri + "'");
            }
            Integer port = port(uri.substring(colon + 1));
            String host = stripBrackets(uri.substring(0, colon));
            if (port == null || host == null) {
                return refused(400, "CONNECT needs host:port (authority-form), found '" + uri + "'");
            }
            return new Ok(new ForwardTarget(true, host, port, null));
        }
        String lower = uri.length() >= 8 ? uri.substring(0, 8).toLowerCase(Locale.ROOT) : uri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://")) {
            return refused(400, "https:// targets go through a CONNECT tunnel (curl -x and browsers do this); "
                    + "this proxy does not open TLS to origins for plain requests");
        }
        if (!lower.startsWith("http://")) {
            return refused(400, "a forward proxy needs an absolute-form target such as http://example.com/ "
                    + "(or CONNECT host:port); its PAC file is at /proxy.pac");
        }
        int authStart = 7;
        int end = authStart;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(authStart, end);
        if (authority.isEmpty() || authority.indexOf('@') >= 0 || !RequestChecks.isValidHost(authority)) {
            return refused(400, "malformed target authority '" + authority + "'");
        }
        String host = authority;
        int port = 80;
        int colon = authority.lastIndexOf(':');
        if (colon > authority.lastIndexOf(']')) {
            Integer p = colon == authority.length() - 1 ? Integer.valueOf(80) : port(authority.substring(colon + 1));
            if (p == null) {
                return refused(400, "malformed port in '" + authority + "'");
            }
            port = p;
            host = authority.substring(0, colon);
        }
        host = stripBrackets(host);
        if (host == null || host.isEmpty()) {
            return refused(400, "malformed target authority '" + authority + "'");
        }
        String rest = uri.substring(end);
        int hash = rest.indexOf('#');
        if (hash >= 0) {
            return refused(400, "request target must not contain a fragment");
        }
        String origin = rest.isEmpty() ? "/" : rest.charAt(0) == '?' ? "/" + rest : rest;
        return new Ok(new ForwardTarget(false, host, port, origin));
    }

    /** The Host header value for the origin: the authority as a browser would send it (port only when not 80). */
    String hostHeader() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return port == 80 && !connect ? h : h + ":" + port;
    }

    private static Integer port(String s) {
        if (s.isEmpty() || s.length() > 5) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return null;
            }
        }
        int p = Integer.parseInt(s);
        return p >= 1 && p <= 65535 ? p : null;
    }

    private static String stripBrackets(String host) {
        if (host.startsWith("[")) {
            return host.endsWith("]") && host.length() > 2 ? host.substring(1, host.length() - 1) : null;
        }
        return host.indexOf(':') >= 0 ? null : host;
    }

    private static Refused refused(int status, String message) {
        return new Refused(LocalReply.fatal(status, message));
    }
}
