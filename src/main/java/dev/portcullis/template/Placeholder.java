package dev.portcullis.template;

import java.util.HashMap;
import java.util.Map;

/** The placeholders of CONTRACT.md, usable in header values, redirects, respond bodies and log templates. */
public enum Placeholder {
    CLIENT_IP("client.ip"),
    CLIENT_PORT("client.port"),
    REQUEST_HOST("request.host"),
    /** The Host header's name without its port (for redirects to another port, such as HTTP to HTTPS). */
    REQUEST_HOSTNAME("request.hostname"),
    REQUEST_METHOD("request.method"),
    REQUEST_URI("request.uri"),
    REQUEST_PATH("request.path"),
    REQUEST_SCHEME("request.scheme"),
    REQUEST_ID("request.id"),
    REQUEST_LINE("request.line"),
    ROUTE_NAME("route.name"),
    UPSTREAM_NAME("upstream.name"),
    UPSTREAM_ADDRESS("upstream.address"),
    RESPONSE_STATUS("response.status"),
    DURATION_MS("duration.ms"),
    CONSUMER_NAME("consumer.name"),
    TLS_SNI("tls.sni"),
    TLS_CLIENT_SUBJECT("tls.client.subject"),
    TLS_CLIENT_FINGERPRINT("tls.client.fingerprint"),
    TLS_VERSION("tls.version"),
    TLS_CIPHER("tls.cipher");

    private static final Map<String, Placeholder> BY_NAME = new HashMap<>();

    static {
        for (Placeholder p : values()) {
            BY_NAME.put(p.key, p);
        }
    }

    private final String key;

    Placeholder(String key) {
        this.key = key;
    }

    /** The name written between braces, such as {@code client.ip}. */
    public String key() {
        return key;
    }

    /** @return null when no placeholder has that name */
    public static Placeholder byKey(String key) {
        return BY_NAME.get(key);
    }
}
