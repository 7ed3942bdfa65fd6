package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.FlatJson;
import dev.portcullis.testing.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Helpers shared by the API gateway's black-box tests: raw exchanges, JSON bodies, htpasswd files. */
final class Gw {
    /** The key of consumer {@code mobile} in {@link #CONSUMERS}. */
    static final String MOBILE_KEY = "0123456789abcdef0123";
    /** The key of consumer {@code web} in {@link #CONSUMERS}. */
    static final String WEB_KEY = "fedcba9876543210fedc";

    /** {@code mobile} (group partners) and {@code web} (group internal), one key each. */
    static final String CONSUMERS = """
            consumers:
              - { name: mobile, api_keys: ["%s"], groups: [partners] }
              - { name: web, api_keys: ["%s"], groups: [internal] }
            """.formatted(MOBILE_KEY, WEB_KEY);

    private Gw() {
    }

    /** One request on its own connection from 127.0.0.1; its response. */
    static Wire.Message send(int port, String request) throws IOException {
        return sendFrom("127.0.0.1", port, request);
    }

    /**
     * One request on its own connection from {@code sourceIp} (any 127.0.0.0/8 address works on Linux loopback), so
     * tests can be different clients.
     */
    static Wire.Message sendFrom(String sourceIp, int port, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(sourceIp, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return Wire.readResponse(s.getInputStream(), request.startsWith("HEAD "));
        }
    }

    /** {@code GET target} with the given header lines (each ending in CRLF), closing the connection after. */
    static Wire.Message get(int port, String target, String headerLines) throws IOException {
        return send(port, "GET " + target + " HTTP/1.1\r\nHost: api.test\r\n" + headerLines
                + "Connection: close\r\n\r\n");
    }

    /** Every value of header {@code name} (one per field line, as sent). */
    static List<String> all(Wire.Message m, String name) {
        List<String> out = new ArrayList<>();
        for (String[] h : m.headers()) {
            if (h[0].equalsIgnoreCase(name)) {
                out.add(h[1]);
            }
        }
        return out;
    }

    /** The names of the response's {@code Access-Control-Allow-*} headers, lower case. */
    static List<String> allowHeaders(Wire.Message m) {
        return m.headerNames().stream().filter(n -> n.startsWith("access-control-allow-")).toList();
    }

    /** A proxy whose one route (with these extra keys) goes to {@code be}, with {@link #CONSUMERS}. */
    static dev.portcullis.testing.TestProxy proxy(dev.portcullis.testing.TestBackend be, String routeExtra)
            throws Exception {
        return dev.portcullis.testing.TestProxy.start(dev.portcullis.testing.TestProxy.oneRouteYaml(CONSUMERS,
                be.address(), "", routeExtra));
    }

    /** A flat JSON object as field name to value text ({@link FlatJson}). */
    static Map<String, String> json(String text) throws IOException {
        return FlatJson.parse(text);
    }

    /**
     * Asserts the gateway's JSON error body: {@code status}, {@code error} (the reason phrase), {@code message}
     * containing {@code messagePart}, and the response's request id.
     *
     * @return the fields
     */
    static Map<String, String> assertJsonError(Wire.Message m, int status, String messagePart) throws IOException {
        assertThat(m.status()).as(m.startLine() + "\n" + m.bodyText()).isEqualTo(status);
        assertThat(m.header("Content-Type")).startsWith("application/json");
        Map<String, String> j = json(m.bodyText());
        assertThat(j).containsOnlyKeys("status", "error", "message", "request_id");
        assertThat(j.get("status")).isEqualTo(Integer.toString(status));
        assertThat(j.get("error")).isNotBlank();
        assertThat(j.get("message")).contains(messagePart);
        assertThat(j.get("request_id")).isNotBlank();
        if (m.header("X-Request-Id") != null) {
            assertThat(j.get("request_id")).isEqualTo(m.header("X-Request-Id"));
        }
        return j;
    }

    /** {@code Authorization: Basic ...} for these credentials. */
    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** A temporary htpasswd file with bcrypt hashes (cost 4), user then password, pair after pair. */
    static Path htpasswd(String... userPasswordPairs) throws IOException {
        Path file = Files.createTempFile("gateway-users", ".htpasswd");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < userPasswordPairs.length; i += 2) {
            sb.append(userPasswordPairs[i]).append(':').append(org.bouncycastle.crypto.generators.OpenBSDBCrypt
                    .generate("2y", userPasswordPairs[i + 1].getBytes(StandardCharsets.UTF_8), new byte[16], 4))
                    .append('\n');
        }
        Files.writeString(file, sb);
        return file;
    }
}
