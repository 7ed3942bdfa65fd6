package dev.portcullis.observe;
import dev.portcullis.template.Placeholder;
import dev.portcullis.template.PlaceholderSource;
public record AccessLogEntry(long startEpochMillis, String listener, String clientIp, int clientPort, String method,
        String uri, String path, String protocol, String scheme, String host, String requestId, String route,
        String upstream, String upstreamAddress, int status, long bytesSent, long durationMicros, String userAgent,
        String referer) implements PlaceholderSource {
    @Override public void append(Placeholder p, StringBuilder out) { out.append('-'); }
}
