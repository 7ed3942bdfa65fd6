package dev.portcullis.cache.store.disk;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * One kind of warning, logged at most once a minute with the number of like ones since: a failing disk must not
 * flood the log, and must not go unreported either (the metrics count every one).
 */
final class Warnings {
    private static final long PERIOD = TimeUnit.MINUTES.toNanos(1);
    private final Logger log;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();

    Warnings(Logger log) {
        this.log = log;
    }

    void warn(String format, Object... args) {
        long now = System.nanoTime();
        long due = next.get();
        if (now - due >= 0 && next.compareAndSet(due, now + PERIOD)) {
            long more = suppressed.getAndSet(0);
            log.warn(more == 0 ? format : format + " (and " + more + " more like it in the last minute)", args);
        } else {
            suppressed.incrementAndGet();
        }
    }
}
