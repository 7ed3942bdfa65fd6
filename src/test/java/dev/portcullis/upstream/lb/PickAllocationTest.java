package dev.portcullis.upstream.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A pick allocates nothing, interpreted or compiled: the thread's allocation counter does not move over 100,000
 * picks over 100 endpoints (the JMH benchmark in src/bench measures the time).
 */
class PickAllocationTest {

    static String[] algorithms() {
        return LbFixtures.ALGORITHMS;
    }

    /** A PickContext with no tries and a fresh hash each time, allocation-free itself. */
    private static final class Ctx implements PickContext {
        long n;

        @Override
        public long hashKey() {
            return Hashing.mix(n++);
        }

        @Override
        public boolean tried(Endpoint e) {
            return false;
        }
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void aPickAllocatesNothing(String algorithm) {
        String[] specs = new String[100];
        for (int i = 0; i < specs.length; i++) {
            specs[i] = "h" + i + ":" + (1 + i % 3);
        }
        Upstream u = LbFixtures.upstream(algorithm, specs);
        for (int i = 0; i < specs.length; i++) {
            LbFixtures.inFlight(u.endpoints().get(i), i % 7);
            u.observe(u.endpoints().get(i), 1_000_000L + i * 1000L, false);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        Ctx ctx = new Ctx();
        long sink = 0;
        for (int i = 0; i < 20_000; i++) { // warm: ThreadLocalRandom's seed, class init
            sink += u.choose(ctx).weight();
        }
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 100_000; i++) {
            sink += u.choose(ctx).weight();
        }
        long after = mx.getThreadAllocatedBytes(tid);
        assertThat(sink).isPositive();
        // a few bytes of slack for the counter read itself; 100,000 allocating picks would be megabytes
        assertThat(after - before).as("%s: bytes allocated by 100,000 picks", algorithm).isLessThan(1024);
    }
}
