package dev.portcullis.redis;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning that may fire on every request while Redis is down: written at most once per interval, with the count
 * of those left out since, so an outage shows in the log without flooding it. Lock-free.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong next;
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, Duration interval) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.next = new AtomicLong(System.nanoTime());
    }

    /** Logs at WARN unless another warning went out less than the interval ago. */
    public void warn(String format, Object... args) {
        long now = System.nanoTime();
        long n = next.get();
        if (now - n >= 0 && next.compareAndSet(n, now + intervalNanos)) {
            long left = suppressed.getAndSet(0);
            log.warn(left == 0 ? format : format + " (" + left + " similar warning(s) left out since the last one)",
                    args);
        } else {
            suppressed.incrementAndGet();
        }
    }
}
