package dev.portcullis.observe;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.portcullis.config.AccessLogConfig;
import dev.portcullis.template.Template;
import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Turns an entry into one log line (without the newline). Runs on the access log's writer thread only. */
abstract class AccessLogFormatter {
    static final DateTimeFormatter ISO_UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    static final DateTimeFormatter CLF_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    abstract void format(AccessLogEntry e, StringBuilder out) throws IOException;

    static AccessLogFormatter of(AccessLogConfig.LogFormat format) {
        if (format instanceof AccessLogConfig.LogFormat.Json) {
            return new JsonLine();
        } else if (format instanceof AccessLogConfig.LogFormat.Combined) {
            return new Combined();
        } else if (format instanceof AccessLogConfig.LogFormat.Template t) {
            return new Templated(Template.compile(t.template()));
        }
        throw new IllegalArgumentException("unknown access log format " + format);
    }

    /** One JSON object per line. */
    static final class JsonLine extends AccessLogFormatter {
        private final StringBuilderWriter writer = new StringBuilderWriter();

        @Override
        void format(AccessLogEntry e, StringBuilder out) throws IOException {
            writer.target = out;
            try (JsonGenerator g = Json.generator(writer)) {
                g.writeStartObject();
                g.writeStringField("time", ISO_UTC.format(Instant.ofEpochMilli(e.startEpochMillis())));
                g.writeStringField("listener", e.listener());
                g.writeStringField("client_ip", e.clientIp());
                g.writeNumberField("client_port", e.clientPort());
                g.writeStringField("method", e.method());
                g.writeStringField("uri", e.uri());
                g.writeStringField("protocol", e.protocol());
                g.writeStringField("host", e.host());
                g.writeNumberField("status", e.status());
                g.writeNumberField("bytes_sent", e.bytesSent());
                g.writeNumberField("bytes_received", e.bytesReceived());
                g.writeNumberField("duration_ms", BigDecimal.valueOf(e.durationMicros(), 3));
                g.writeStringField("request_id", e.requestId());
                g.writeStringField("route", e.route());
                g.writeStringField("upstream", e.upstream());
                g.writeStringField("upstream_address", e.upstreamAddress());
                g.writeStringField("user_agent", e.userAgent());
                g.writeStringField("referer", e.referer());
                if (e.consumer() != null) {
                    g.writeStringField("consumer", e.consumer());
                }
                if (e.tls() != null) {
                    g.writeStringField("scheme", e.scheme());
                    g.writeStringField("tls_version", e.tls().version());
                    g.writeStringField("tls_cipher", e.tls().cipher());
                    g.writeStringField("tls_sni", e.tls().sni());
                    if (!e.tls().clientSubject().isEmpty()) {
                        g.writeStringField("tls_client_subject", e.tls().clientSubject());
                    }
                }
                g.writeEndObject();
            } finally {
                writer.target = null;
            }
        }
    }

    /** The Apache/nginx "combined" format. Quotes, backslashes and control characters in strings become \xHH. */
    static final class Combined extends AccessLogFormatter {
        @Override
        void format(AccessLogEntry e, StringBuilder out) {
            escaped(e.clientIp(), out);
            out.append(" - - [");
            CLF_TIME.formatTo(Instant.ofEpochMilli(e.startEpochMillis()), out);
            out.append("] \"");
            escaped(e.method(), out);
            out.append(' ');
            escaped(e.uri(), out);
            out.append(' ');
            escaped(e.protocol(), out);
            out.append("\" ").append(e.status()).append(' ').append(e.bytesSent()).append(" \"");
            escaped(e.referer(), out);
            out.append("\" \"");
            escaped(e.userAgent(), out);
            out.append('"');
        }

        static void escaped(String s, StringBuilder out) {
            if (s == null || s.isEmpty()) {
                out.append('-');
                return;
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                    out.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
                } else {
                    out.append(c);
                }
            }
        }
    }

    /** A user template with placeholders. */
    static final class Templated extends AccessLogFormatter {
        private final Template template;

        Templated(Template template) {
            this.template = template;
        }

        @Override
        void format(AccessLogEntry e, StringBuilder out) {
            int start = out.length();
            template.renderTo(e, out);
            // One entry, one line: a newline inside a value must not start a forged line.
            for (int i = start; i < out.length(); i++) {
                char c = out.charAt(i);
                if (c == '\n' || c == '\r') {
                    out.setCharAt(i, ' ');
                }
            }
        }
    }

    /** A Writer that appends to a StringBuilder, reused for every line. */
    private static final class StringBuilderWriter extends Writer {
        StringBuilder target;

        @Override
        public void write(char[] cbuf, int off, int len) {
            target.append(cbuf, off, len);
        }

        @Override
        public void write(String str, int off, int len) {
            target.append(str, off, off + len);
        }

        @Override
        public void write(int c) {
            target.append((char) c);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
