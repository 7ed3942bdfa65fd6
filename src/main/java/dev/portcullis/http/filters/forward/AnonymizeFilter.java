package dev.portcullis.http.filters.forward;

import dev.portcullis.config.ForwardConfig.Anonymize;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A forward proxy's {@code anonymize}: what of the client reaches the origin. Runs after the proxy's own headers
 * were added, so it removes those too. Whatever the level, {@code Proxy-Authorization} never leaves (the client's
 * credentials are for this proxy only) nor does any other {@code Proxy-*} field; with a parent proxy that wants
 * credentials, this proxy's own {@code Proxy-Authorization} for it is the one such field sent.
 * <ul>
 * <li>{@code off}: the client's address in {@code X-Forwarded-For} and a {@code Via}, as Squid sends by default;</li>
 * <li>{@code standard}: no {@code Via}, {@code X-Forwarded-*}, {@code Forwarded}, {@code X-Real-IP},
 *     {@code X-Request-Id}: the origin sees a request from the proxy's address and nothing more;</li>
 * <li>{@code strict}: also no {@code From}, no {@code Referer} pointing to another origin than the target's, and
 *     one {@code User-Agent} for every client ({@value #STRICT_USER_AGENT}), so clients are not told apart by it.</li>
 * </ul>
 */
public final class AnonymizeFilter implements HttpFilter {
    static final String STRICT_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
            + "Firefox/128.0";
    private static final List<AsciiString> IDENTIFYING = List.of(HttpHeaderNames.VIA,
            AsciiString.cached("x-forwarded-for"), AsciiString.cached("x-forwarded-proto"),
            AsciiString.cached("x-forwarded-host"), AsciiString.cached("x-forwarded-port"),
            AsciiString.cached("forwarded"), AsciiString.cached("x-real-ip"), AsciiString.cached("x-request-id"),
            AsciiString.cached("x-client-ip"), AsciiString.cached("client-ip"), AsciiString.cached("true-client-ip"));
    /** With {@code off}: what the reverse proxy adds about its backends' side, meaningless to an origin. */
    private static final List<AsciiString> REVERSE_ONLY = List.of(AsciiString.cached("x-forwarded-proto"),
            AsciiString.cached("x-forwarded-host"), AsciiString.cached("forwarded"), AsciiString.cached("x-request-id"));

    private final Anonymize level;
    /** {@code Proxy-Authorization} for the parent proxy ({@code forward.parent.auth}); null for none. */
    private final String parentAuthorization;

    public AnonymizeFilter(Anonymize level) {
        this(level, null);
    }

    public AnonymizeFilter(Anonymize level, String parentAuthorization) {
        this.level = level;
        this.parentAuthorization = parentAuthorization;
    }

    @Override
    public Phase phase() {
        return Phase.REQUEST;
    }

    @Override
    public FilterStatus onRequest(Exchange exchange) {
        HttpHeaders h = exchange.request().headers();
        removeProxyFields(h);
        if (parentAuthorization != null) {
            h.set(HttpHeaderNames.PROXY_AUTHORIZATION, parentAuthorization);
        }
        if (level == Anonymize.OFF) {
            REVERSE_ONLY.forEach(h::remove);
            return FilterStatus.CONTINUE;
        }
        IDENTIFYING.forEach(h::remove);
        if (level == Anonymize.STRICT) {
            h.remove(HttpHeaderNames.FROM);
            String referer = h.get(HttpHeaderNames.REFERER);
            if (referer != null && !sameOrigin(referer, h.get(HttpHeaderNames.HOST))) {
                h.remove(HttpHeaderNames.REFERER);
            }
            h.set(HttpHeaderNames.USER_AGENT, STRICT_USER_AGENT);
        }
        return FilterStatus.CONTINUE;
    }

    private static void removeProxyFields(HttpHeaders h) {
        List<String> names = null;
        for (String name : h.names()) {
            if (name.regionMatches(true, 0, "proxy-", 0, 6)) {
                if (names == null) {
                    names = new ArrayList<>(2);
                }
                names.add(name);
            }
        }
        if (names != null) {
            names.forEach(h::remove);
        }
    }

    /** Whether {@code referer} names the target's own host (scheme and port aside: a forward proxy sees http). */
    static boolean sameOrigin(String referer, String targetHost) {
        if (targetHost == null) {
            return false;
        }
        try {
            URI u = URI.create(referer.trim());
            String host = u.getHost();
            if (host == null) {
                return false;
            }
            String authority = u.getPort() < 0 ? host : host + ":" + u.getPort();
            String target = targetHost.toLowerCase(Locale.ROOT);
            return authority.toLowerCase(Locale.ROOT).equals(target)
                    || host.toLowerCase(Locale.ROOT).equals(target);
        } catch (IllegalArgumentException e) {
            return false; // unparsable: not provably same-origin
        }
    }
}
