package dev.portcullis.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;

/** Reading one cookie of a request, for sticky sessions and {@code hash_on: cookie:NAME}. */
final class Cookies {
    private Cookies() {
    }

    /**
     * The value of the first cookie called {@code name} in the Cookie header(s), quotes removed; null when absent.
     * A plain scan (RFC 6265 section 5.4 pairs separated by ';'): no decoder objects per request.
     */
    static String value(HttpHeaders headers, String name) {
        // Netty's value iterator walks repeated lines LAST first (getAll keeps their order but builds a list):
        // the match of the earliest line is the last one found.
        Iterator<String> it = headers.valueStringIterator(HttpHeaderNames.COOKIE);
        String first = null;
        while (it.hasNext()) {
            String v = find(it.next(), name);
            if (v != null) {
                first = v;
            }
        }
        return first;
    }

    private static String find(String header, String name) {
        int n = header.length();
        int i = 0;
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == '\t')) {
                i++;
            }
            int end = header.indexOf(';', i);
            if (end < 0) {
                end = n;
            }
            if (header.startsWith(name, i) && i + name.length() < end && header.charAt(i + name.length()) == '=') {
                int from = i + name.length() + 1;
                int to = end;
                while (to > from && (header.charAt(to - 1) == ' ' || header.charAt(to - 1) == '\t')) {
                    to--;
                }
                if (to - from >= 2 && header.charAt(from) == '"' && header.charAt(to - 1) == '"') {
                    from++;
                    to--;
                }
                return header.substring(from, to);
            }
            i = end + 1;
        }
        return null;
    }
}
