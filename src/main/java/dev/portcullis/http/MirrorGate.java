package dev.portcullis.http;

import dev.portcullis.observe.MirrorStats.Result;
import dev.portcullis.upstream.Upstream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What limits mirror copies across the process: how many may be in flight, and how often their failures are
 * logged. Failures of copies never concern the client, and a dead mirror would fail every copy: one warning per
 * {@value #WARN_EVERY_SECONDS} s, the rest at debug, all counted in {@code portcullis_mirror_requests_total}.
 */
final class MirrorGate {
    private static final Logger log = LoggerFactory.getLogger(MirrorLeg.class);
    /**
     * Copies in flight in the process at most, whatever the mirror's circuit breaker says: a mirror that hangs
     * must not take every file descriptor the real requests need.
     */
    static final int MAX_COPIES_IN_FLIGHT = 4096;
    private static final int WARN_EVERY_SECONDS = 10;
    private static final AtomicInteger copiesInFlight = new AtomicInteger();
    private static final AtomicLong nextWarnNanos = new AtomicLong(System.nanoTime());

    private MirrorGate() {
    }

    /**
     * Counts a new copy in, under the process limit and the mirror upstream's {@code circuit_breaker.max_requests}.
     *
     * @return null when it may go (pair with {@link #release}), else why not
     */
    static String admit(Upstream mirror) {
        if (copiesInFlight.incrementAndGet() > MAX_COPIES_IN_FLIGHT) {
            copiesInFlight.decrementAndGet();
            return MAX_COPIES_IN_FLIGHT + " copies are in flight already";
        }
        String limit = mirror.breaker().tryStartRequest();
        if (limit != null) {
            copiesInFlight.decrementAndGet();
            return "the mirror upstream's circuit breaker is at " + limit;
        }
        return null;
    }

    static void release(Upstream mirror) {
        mirror.breaker().requestFinished();
        copiesInFlight.decrementAndGet();
    }

    static void logFailure(String route, Object target, Result result, String why) {
        long now = System.nanoTime();
        long next = nextWarnNanos.get();
        if (now - next >= 0 && nextWarnNanos.compareAndSet(next, now + TimeUnit.SECONDS.toNanos(WARN_EVERY_SECONDS))) {
            log.warn("route {}: mirror {}: copy {}: {} (the real request is not affected; more such failures in the "
                    + "next {} s are logged at debug, all are counted in portcullis_mirror_requests_total)",
                    route, target, result.name().toLowerCase(Locale.ROOT), why, WARN_EVERY_SECONDS);
        } else if (log.isDebugEnabled()) {
            log.debug("route {}: mirror {}: copy {}: {}", route, target, result, why);
        }
    }
}
