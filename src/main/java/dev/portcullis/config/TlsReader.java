package dev.portcullis.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code listeners[].tls} and {@code upstreams.NAME.tls}: what is said, and that the files are there. */
final class TlsReader {
    static final List<String> LISTENER_KEYS = List.of("certificates", "self_signed", "min_version", "alpn", "client_auth");
    static final List<String> CERT_KEYS = List.of("cert", "key", "ocsp_staple");
    static final List<String> CLIENT_AUTH_KEYS = List.of("mode", "ca");
    static final List<String> UPSTREAM_KEYS = List.of("sni", "verify", "ca", "cert", "key");
    static final List<String> VERSIONS = List.of("TLSv1.2", "TLSv1.3");
    static final List<String> ALPN = List.of("h2", "http/1.1");

    private TlsReader() {
    }

    static ListenerTls listener(Section t) {
        t.keys(LISTENER_KEYS, List.of());
        List<ListenerTls.CertificateFiles> certs = new ArrayList<>();
        for (Section.Item item : t.items("certificates", false)) {
            Section c = Section.of(t.errors, item.node(), item.path(), item.node());
            c.keys(CERT_KEYS, List.of());
            if (!c.has("cert")) {
                c.missing("cert");
            }
            if (!c.has("key")) {
                c.missing("key");
            }
            var cert = c.file("cert");
            var key = c.file("key");
            var staple = c.file("ocsp_staple");
            if (cert != null && key != null && (staple != null || !c.has("ocsp_staple"))) {
                certs.add(new ListenerTls.CertificateFiles(cert, key, staple, c.line(), c.path()));
            }
        }
        boolean selfSigned = t.bool("self_signed", false);
        if (!t.isBad() && !selfSigned && !t.has("certificates")) {
            t.error("certificates", "an https listener needs 'certificates' (or 'self_signed: true' for development)");
        } else if (t.has("certificates") && t.items("certificates", false).isEmpty()
                && t.node("certificates") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode && !selfSigned) {
            t.error("certificates", "'certificates' is empty; list at least one { cert, key }");
        }
        String minVersion = t.parse("min_version", "TLSv1.2", "a TLS version", s -> {
            for (String v : VERSIONS) {
                if (v.equalsIgnoreCase(s.trim())) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unsupported min_version '" + s + "'; expected TLSv1.2 or TLSv1.3 "
                    + "(older versions are not offered)");
        });
        List<String> alpn = ListenerTls.DEFAULT_ALPN;
        if (t.has("alpn")) {
            List<String> read = new ArrayList<>();
            List<Section.Item> items = t.items("alpn", true);
            for (Section.Item item : items) {
                String p = t.scalar(item.node(), item.path(), "a protocol name");
                if (p == null) {
                    continue;
                }
                String norm = p.trim().toLowerCase(Locale.ROOT);
                if (!ALPN.contains(norm)) {
                    t.errors.at(item.node(), item.path(), "unknown ALPN protocol '" + p + "'; expected h2 or http/1.1");
                } else if (read.contains(norm)) {
                    t.errors.at(item.node(), item.path(), "'" + p + "' is listed twice");
                } else {
                    read.add(norm);
                }
            }
            if (items.isEmpty() && t.node("alpn") instanceof org.snakeyaml.engine.v2.nodes.SequenceNode) {
                t.error("alpn", "'alpn' is empty; list h2 and/or http/1.1");
            }
            if (!read.isEmpty()) {
                alpn = List.copyOf(read);
            }
        }
        ListenerTls.ClientAuth clientAuth = ListenerTls.ClientAuth.NONE;
        if (t.has("client_auth")) {
            Section ca = t.section("client_auth");
            ca.keys(CLIENT_AUTH_KEYS, List.of());
            ListenerTls.ClientAuthMode mode = ca.parse("mode", ListenerTls.ClientAuthMode.NONE, "none, optional or require",
                    s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
                        case "none", "false", "off" -> ListenerTls.ClientAuthMode.NONE;
                        case "optional" -> ListenerTls.ClientAuthMode.OPTIONAL;
                        case "require", "required" -> ListenerTls.ClientAuthMode.REQUIRE;
                        default -> throw new IllegalArgumentException("unknown client_auth mode '" + s
                                + "'; expected none, optional or require");
                    });
            var caFile = ca.file("ca");
            if (mode != ListenerTls.ClientAuthMode.NONE && !ca.has("ca")) {
                ca.missing("ca");
            }
            if (mode != ListenerTls.ClientAuthMode.NONE && caFile != null) {
                clientAuth = new ListenerTls.ClientAuth(mode, caFile, ca.line(), ca.path());
            }
        }
        return new ListenerTls(List.copyOf(certs), selfSigned, minVersion, alpn, clientAuth, t.line(), t.path());
    }

    static UpstreamConnectionConfig.Tls upstream(Section t) {
        t.keys(UPSTREAM_KEYS, List.of());
        String sni = t.string("sni", null);
        if (sni != null && (sni.isBlank() || !Values.isName(sni.trim()))) {
            t.error("sni", "invalid server name '" + sni + "'; expected a DNS name such as api.internal");
            sni = null;
        }
        boolean verify = t.bool("verify", true);
        var ca = t.file("ca");
        var cert = t.file("cert");
        var key = t.file("key");
        if (t.has("cert") != t.has("key")) {
            t.error(t.has("cert") ? "cert" : "key", "'cert' and 'key' go together (the client certificate for mTLS "
                    + "and its private key)");
        }
        return new UpstreamConnectionConfig.Tls(sni == null ? null : sni.trim(), verify, ca, cert, key, t.line());
    }
}
