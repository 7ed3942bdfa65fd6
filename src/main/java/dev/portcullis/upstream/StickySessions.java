package dev.portcullis.upstream;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.lb.PickContext;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Session persistence ({@code sticky}) of one upstream: which endpoint a client's cookie pins it to.
 *
 * <p>The cookie holds an opaque id per endpoint: base64url(HMAC-SHA256(key, upstream name + "\n" + endpoint
 * address)) cut to {@value #ID_CHARS} characters (96 bits). It reveals nothing about the endpoint, cannot be made
 * for a chosen endpoint without the key, and is the same across reloads and restarts while the key is. The key is
 * {@code secret} when set, else one random key per process: then pins survive reloads but not a restart, and
 * several instances behind one address need a shared {@code secret}.
 *
 * <p>The id tables are built once per endpoint list (not per request) and rebuilt when the list changes (a
 * reload compiles a new upstream; DNS discovery swaps the list): a lookup compares the list's identity only.
 */
public final class StickySessions {
    static final int ID_CHARS = 16;
    private static final byte[] PROCESS_KEY = new byte[32];

    static {
        new SecureRandom().nextBytes(PROCESS_KEY);
    }

    /** The ids of one endpoint list, and the Set-Cookie values that pin to each endpoint. */
    private record Table(List<Endpoint> source, Map<String, Endpoint> byId, Map<Endpoint, String> idOf,
                         Map<Endpoint, String> setCookieOf) {}

    private final Upstream upstream;
    private final byte[] key;
    private final String cookieName;
    /** "; Path=/; HttpOnly; SameSite=Lax" and Max-Age when the config sets a ttl. */
    private final String attributes;
    private volatile Table table;

    StickySessions(Upstream upstream, UpstreamConfig.Sticky config) {
        this.upstream = upstream;
        this.key = config.secret() == null ? PROCESS_KEY : config.secret().getBytes(StandardCharsets.UTF_8);
        this.cookieName = config.cookie();
        String attrs = "; Path=/; HttpOnly; SameSite=Lax";
        if (config.ttl() != null) {
            // Max-Age is in whole seconds; round up so a sub-second ttl does not delete the cookie (Max-Age=0).
            long seconds = Math.max(1, (config.ttl().toMillis() + 999) / 1000);
            attrs += "; Max-Age=" + seconds;
        }
        this.attributes = attrs;
    }

    public String cookieName() {
        return cookieName;
    }

    /**
     * The endpoint the cookie value pins the request to, when it may take it now: known, not drained, down or
     * ejected, healthy, not tried by this request, and a backup only while backups are in the active set.
     * Null otherwise (no cookie, a forged or stale value, a dead or drained endpoint): then balance as usual.
     */
    public Endpoint pinned(String cookieValue, PickContext ctx) {
        if (cookieValue == null) {
            return null;
        }
        Endpoint e = table().byId.get(cookieValue);
        if (e == null || ctx.tried(e) || !Upstream.available(e, System.nanoTime())) {
            return null;
        }
        return e.backup() && !activeNow(e) ? null : e;
    }

    private boolean activeNow(Endpoint e) {
        for (Endpoint a : upstream.set().active()) {
            if (a == e) {
                return true;
            }
        }
        return false;
    }

    /** The cookie value that pins to {@code e}; null when {@code e} is no longer one of the upstream's endpoints. */
    public String id(Endpoint e) {
        return table().idOf.get(e);
    }

    /** The whole Set-Cookie value that pins to {@code e} (precomputed); null as for {@link #id}. */
    public String setCookie(Endpoint e) {
        return table().setCookieOf.get(e);
    }

    /** Builds the ids of an endpoint list before the upstream publishes it (off the event loops). */
    void prepare(List<Endpoint> endpoints) {
        table = build(endpoints);
    }

    private Table table() {
        List<Endpoint> current = upstream.endpoints();
        Table t = table;
        if (t == null || t.source != current) {
            // Only if a list was published without prepare(): build it here (two loops may race; same result).
            t = build(current);
            table = t;
        }
        return t;
    }

    private Table build(List<Endpoint> endpoints) {
        Map<String, Endpoint> byId = new HashMap<>();
        Map<Endpoint, String> idOf = new HashMap<>();
        Map<Endpoint, String> setCookieOf = new HashMap<>();
        Mac mac = mac();
        for (Endpoint e : endpoints) {
            String id = id(mac, upstream.name(), e.label());
            byId.put(id, e);
            idOf.put(e, id);
            setCookieOf.put(e, cookieName + "=" + id + attributes);
        }
        return new Table(endpoints, Map.copyOf(byId), Map.copyOf(idOf), Map.copyOf(setCookieOf));
    }

    String id(String upstreamName, String endpointLabel) {
        return id(mac(), upstreamName, endpointLabel);
    }

    private static String id(Mac mac, String upstreamName, String endpointLabel) {
        byte[] sum = mac.doFinal((upstreamName + "\n" + endpointLabel).getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sum).substring(0, ID_CHARS);
    }

    private Mac mac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", ex);
        }
    }
}
