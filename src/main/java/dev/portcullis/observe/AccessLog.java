package dev.portcullis.observe;
import dev.portcullis.config.AccessLogConfig;
import java.io.IOException;
public final class AccessLog implements AutoCloseable {
    public static AccessLog open(AccessLogConfig cfg, ProxyMetrics metrics) throws IOException { return new AccessLog(); }
    public void log(AccessLogEntry e) {}
    @Override public void close() {}
}
