package dev.portcullis.http.gateway;

import dev.portcullis.config.GatewayConfig;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.LocalReply;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A route's {@code cors}, per the Fetch standard's CORS protocol. A request without {@code Origin} is not a CORS
 * request and passes untouched. A preflight ({@code OPTIONS} with {@code Origin} and
 * {@code Access-Control-Request-Method}) is answered here: {@code 204} with the policy when the origin, the method
 * and every requested header are allowed, else {@code 403} without any CORS header (the browser then refuses the
 * real request). Any other request goes on, and its response (the upstream's or one made here, a 401 or 429
 * included, so a page can read why) gets {@code Access-Control-Allow-Origin} and the rest when the origin is
 * allowed, none when it is not; {@code Vary: Origin} either way unless the policy allows every origin without
 * credentials (the answer is then the same for all).
 */
public final class CorsPolicy implements HttpFilter {
    private static final Set<String> SAFELISTED_METHODS = Set.of("GET", "HEAD", "POST");

    private final boolean anyOrigin;
    private final Set<String> origins;
    private final Set<String> methods;
    private final boolean anyMethod;
    private final String methodsValue;
    private final boolean anyHeader;
    private final Set<String> headers;
    private final String headersValue;
    private final String exposeValue;
    private final boolean credentials;
    private final String maxAge;

    public CorsPolicy(GatewayConfig.Cors cfg) {
        this.anyOrigin = cfg.allowOrigins().contains("*");
        this.origins = Set.copyOf(cfg.allowOrigins());
        this.methods = Set.copyOf(cfg.allowMethods());
        this.anyMethod = methods.contains("*");
        this.methodsValue = String.join(", ", cfg.allowMethods());
        this.anyHeader = cfg.allowHeaders().contains("*");
        this.headers = Set.copyOf(cfg.allowHeaders());
        this.headersValue = String.join(", ", cfg.allowHeaders());
        this.exposeValue = cfg.exposeHeaders().isEmpty() ? null : String.join(", ", cfg.exposeHeaders());
        this.credentials = cfg.allowCredentials();
        this.maxAge = cfg.maxAge() == null ? null : Long.toString(cfg.maxAge().toSeconds());
    }

    @Override
    public Phase phase() {
        return Phase.RESPONSE;
    }

    /** Whether the request is a preflight, which this policy answers itself. */
    public static boolean isPreflight(io.netty.handler.codec.http.HttpRequest req) {
        HttpHeaders h = req.headers();
        return HttpMethod.OPTIONS.equals(req.method()) && h.contains(HttpHeaderNames.ORIGIN)
                && h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
    }

    /** The answer to a preflight. */
    public GateDecision preflight(Exchange ex) {
        HttpHeaders h = ex.request().headers();
        String origin = h.get(HttpHeaderNames.ORIGIN);
        if (!allows(origin)) {
            return refuse("origin " + origin + " is not allowed by this route's cors.allow_origins");
        }
        String method = h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD).trim();
        if (!anyMethod && !methods.contains(method) && !SAFELISTED_METHODS.contains(method)) {
            return refuse("method " + method + " is not allowed by this route's cors.allow_methods");
        }
        String requested = h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
        List<String> asked = requested == null ? List.of() : split(requested);
        if (!anyHeader) {
            for (String name : asked) {
                if (!headers.contains(name)) {
                    return refuse("request header " + name + " is not allowed by this route's cors.allow_headers");
                }
            }
        }
        HttpHeaders out = new DefaultHttpHeaders();
        allowOrigin(out, origin);
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, anyMethod || methodsValue.isEmpty() ? method
                : methodsValue);
        if (anyHeader && !asked.isEmpty()) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, String.join(", ", asked));
        } else if (!headersValue.isEmpty()) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, headersValue);
        }
        if (maxAge != null) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, maxAge);
        }
        out.set(HttpHeaderNames.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        return new GateDecision.Preflight(LocalReply.of(204, new byte[0], out));
    }

    private static GateDecision refuse(String why) {
        LocalReply r = LocalReply.jsonError(403, "CORS preflight refused: " + why);
        r.header(HttpHeaderNames.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        return new GateDecision.Refuse("cors", r);
    }

    /** The response of a CORS request: the policy's headers when its origin is allowed. */
    @Override
    public void onResponse(Exchange ex, HttpResponse response) {
        if (isPreflight(ex.request())) {
            return;
        }
        String origin = ex.request().headers().get(HttpHeaderNames.ORIGIN);
        HttpHeaders out = response.headers();
        if (!(anyOrigin && !credentials)) {
            // also without Origin: a cache must not hand this answer (without CORS headers) to a CORS request
            out.add(HttpHeaderNames.VARY, "Origin");
        }
        if (origin == null) {
            return;
        }
        // whatever the upstream said about CORS, the route's policy is the one that holds
        out.remove(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN);
        out.remove(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS);
        out.remove(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS);
        if (!allows(origin)) {
            return;
        }
        allowOrigin(out, origin);
        if (exposeValue != null) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, exposeValue);
        }
    }

    private void allowOrigin(HttpHeaders out, String origin) {
        if (anyOrigin && !credentials) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        } else {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            if (credentials) {
                out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
            }
        }
    }

    /** Origins compare as the browser serialises them: scheme and host lower case ({@code null} never matches). */
    boolean allows(String origin) {
        if (origin == null || origin.equals("null")) {
            return false;
        }
        return anyOrigin || origins.contains(origin.trim().toLowerCase(Locale.ROOT));
    }

    private static List<String> split(String value) {
        Set<String> seen = new HashSet<>();
        List<String> out = new java.util.ArrayList<>();
        for (String part : value.split(",")) {
            String n = part.trim().toLowerCase(Locale.ROOT);
            if (!n.isEmpty() && seen.add(n)) {
                out.add(n);
            }
        }
        return out;
    }
}
