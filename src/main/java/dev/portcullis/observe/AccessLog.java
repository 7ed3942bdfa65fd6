package dev.portcullis.observe;

import dev.portcullis.config.AccessLogConfig;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log. {@link #log} only offers the entry to a bounded queue, so it never blocks an event loop; one
 * daemon thread formats the entries and writes them, flushing whenever the queue runs empty. When the queue is full
 * the entry is dropped and counted in {@code portcullis_access_log_dropped_total}.
 */
public final class AccessLog implements AutoCloseable {
    static final int QUEUE_CAPACITY = 65536;
    /** Bytes gathered before a write; also flushed whenever the queue is empty. */
    private static final int BATCH_CHARS = 32 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    private static final AccessLog OFF = new AccessLog();

    private final String path;
    private final ProxyMetrics metrics;
    private final BlockingQueue<AccessLogEntry> queue;
    private final AccessLogFormatter formatter;
    private final OutputStream out;
    private final boolean ownsStream;
    private final Thread writer;
    private volatile boolean closing;
    private boolean errorReported;

    private AccessLog() {
        path = "off";
        metrics = null;
        queue = null;
        formatter = null;
        out = null;
        ownsStream = false;
        writer = null;
    }

    private AccessLog(String path, ProxyMetrics metrics, AccessLogFormatter formatter, OutputStream out,
                      boolean ownsStream, int capacity) {
        this.path = path;
        this.metrics = metrics;
        this.formatter = formatter;
        this.out = out;
        this.ownsStream = ownsStream;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = new Thread(this::run, "portcullis-access-log");
        writer.setDaemon(true);
    }

    /**
     * Opens the log: {@code stdout}, {@code stderr}, a file (appended to; parent directories created) or
     * {@code off} (a logger that does nothing).
     *
     * @throws IOException naming the path when the file cannot be opened
     * @throws IllegalArgumentException when a template names an unknown placeholder
     */
    public static AccessLog open(AccessLogConfig cfg, ProxyMetrics metrics) throws IOException {
        return open(cfg, metrics, QUEUE_CAPACITY);
    }

    static AccessLog open(AccessLogConfig cfg, ProxyMetrics metrics, int capacity) throws IOException {
        if (!cfg.enabled()) {
            return OFF;
        }
        AccessLogFormatter formatter = AccessLogFormatter.of(cfg.format());
        String path = cfg.path();
        AccessLog log;
        if ("stdout".equals(path)) {
            log = new AccessLog(path, metrics, formatter, System.out, false, capacity);
        } else if ("stderr".equals(path)) {
            log = new AccessLog(path, metrics, formatter, System.err, false, capacity);
        } else {
            log = new AccessLog(path, metrics, formatter, openFile(path), true, capacity);
        }
        log.writer.start();
        return log;
    }

    private static OutputStream openFile(String path) throws IOException {
        try {
            Path file = Path.of(path).toAbsolutePath();
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            return new FileOutputStream(file.toFile(), true);
        } catch (IOException | RuntimeException e) {
            throw new IOException("access_log.path: cannot open " + path + " for appending (" + e
                    + "); make sure its directory is writable by this user, or set access_log.path to stdout", e);
        }
    }

    /** True unless this is the {@code off} logger; callers may skip building entries when false. */
    public boolean enabled() {
        return writer != null;
    }

    /** Queues the entry; never blocks and never throws. Drops it (and counts the drop) when the queue is full. */
    public void log(AccessLogEntry e) {
        if (writer == null || e == null) {
            return;
        }
        if (closing || !queue.offer(e)) {
            metrics.accessLogDropped();
        }
    }

    /** Writes what is queued, then stops the writer thread and closes the file (not stdout/stderr). */
    @Override
    public void close() {
        if (writer == null || closing) {
            return;
        }
        closing = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (ownsStream) {
            try {
                out.close();
            } catch (IOException e) {
                LOG.warn("access log {}: closing failed: {}", path, e.toString());
            }
        }
    }

    private void run() {
        StringBuilder batch = new StringBuilder(BATCH_CHARS + 1024);
        int lines = 0;
        while (true) {
            AccessLogEntry e;
            try {
                e = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                e = null;
                closing = true;
            }
            if (e != null) {
                int mark = batch.length();
                try {
                    formatter.format(e, batch);
                    batch.append('\n');
                    lines++;
                } catch (IOException | RuntimeException ex) {
                    batch.setLength(mark);
                    metrics.accessLogDropped();
                    LOG.warn("access log {}: could not format an entry: {}", path, ex.toString());
                }
            }
            if (batch.length() >= BATCH_CHARS || (batch.length() > 0 && queue.isEmpty())) {
                write(batch, lines);
                batch.setLength(0);
                lines = 0;
            }
            if (closing && queue.isEmpty() && batch.length() == 0) {
                return;
            }
        }
    }

    private void write(StringBuilder batch, int lines) {
        try {
            byte[] bytes = batch.toString().getBytes(StandardCharsets.UTF_8);
            // One write per batch: a PrintStream (stdout) takes it whole, so other log output never splits a line.
            out.write(bytes);
            out.flush();
            if (out instanceof java.io.PrintStream ps && ps.checkError()) {
                throw new IOException("the stream reports an error");
            }
            if (errorReported) {
                LOG.info("access log {}: writing works again", path);
                errorReported = false;
            }
        } catch (IOException | RuntimeException ex) {
            for (int i = 0; i < lines; i++) {
                metrics.accessLogDropped();
            }
            if (!errorReported) {
                errorReported = true;
                LOG.error("access log {}: cannot write ({}); lines are dropped and counted in "
                        + "portcullis_access_log_dropped_total until it works again: check free disk space and "
                        + "permissions, or set access_log.path to stdout", path, ex.toString());
            }
        }
    }
}
