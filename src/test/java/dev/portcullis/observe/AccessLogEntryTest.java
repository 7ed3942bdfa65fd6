package dev.portcullis.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.template.Template;
import org.junit.jupiter.api.Test;

class AccessLogEntryTest {
    static AccessLogEntry sample() {
        return new AccessLogEntry(971185536000L, "web", "192.0.2.7", 51234, "GET", "/x?a=1", "/x", "HTTP/1.1",
                "http", "example.com", "req-1", "api", "backend", "10.0.0.5:8080", 200, 2326, 0, 12_345,
                "curl/8", "http://ref/");
    }

    @Test
    void rendersEveryPlaceholder() {
        Template t = Template.compile("{client.ip}:{client.port} {request.host} {request.method} {request.uri} "
                + "{request.path} {request.scheme} {request.id} \"{request.line}\" {route.name} {upstream.name} "
                + "{upstream.address} {response.status} {duration.ms} {consumer.name} {tls.sni} {tls.client.subject}");
        assertThat(t.render(sample())).isEqualTo("192.0.2.7:51234 example.com GET /x?a=1 /x http req-1 "
                + "\"GET /x?a=1 HTTP/1.1\" api backend 10.0.0.5:8080 200 12.345 - - -");
    }

    @Test
    void absentValuesAreDashes() {
        AccessLogEntry e = new AccessLogEntry(0, null, null, 0, "GET", "/", "/", "HTTP/1.0", "http", null, null,
                null, null, null, 404, 0, 0, 5, null, null);
        assertThat(Template.compile("{client.ip} {client.port} {request.host} {route.name} {upstream.name} "
                + "{upstream.address} {duration.ms}").render(e)).isEqualTo("- - - - - - 0.005");
    }

    @Test
    void millisHaveThreeDecimals() {
        StringBuilder sb = new StringBuilder();
        AccessLogEntry.appendMillis(1_000_050, sb);
        sb.append(' ');
        AccessLogEntry.appendMillis(0, sb);
        assertThat(sb).hasToString("1000.050 0.000");
    }
}
