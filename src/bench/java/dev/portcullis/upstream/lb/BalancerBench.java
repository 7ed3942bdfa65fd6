package dev.portcullis.upstream.lb;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints;
import dev.portcullis.upstream.Upstream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of one balancing choice, {@code Upstream.choose} as a request's first try makes it (the picker plus the
 * endpoint set's "not tried yet" check), over 100 endpoints. Endpoints carry some load (1–7 requests in flight) and
 * latency estimates (1.0–1.1 ms), so least_connections scans, power_of_two and peak_ewma compare real values.
 * Weights are all 1 ("equal") or 1, 2, 3 in turn ("mixed"; weighted draws and schedules). Run with bench/lb-jmh.sh.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BalancerBench {
    @Param({"round_robin", "least_connections", "random", "power_of_two", "peak_ewma", "maglev", "ring"})
    public String balance;

    @Param({"equal", "mixed"})
    public String weights;

    @Param("100")
    public int endpoints;

    private Upstream upstream;

    /** A request's context: no endpoint tried yet, a new hash key each time (as new clients would bring). */
    @State(Scope.Thread)
    public static class Request implements PickContext {
        private long n;

        @Override
        public long hashKey() {
            return Hashing.mix(n++);
        }

        @Override
        public boolean tried(Endpoint e) {
            return false;
        }
    }

    @Setup
    public void setUp() {
        String[] specs = new String[endpoints];
        for (int i = 0; i < endpoints; i++) {
            specs[i] = "10.0." + (i / 250) + "." + (i % 250 + 1) + ":" + (weights.equals("equal") ? 1 : 1 + i % 3);
        }
        UpstreamConfig.Balance b = switch (balance) {
            case "maglev", "ring" -> UpstreamConfig.Balance.CONSISTENT_HASH;
            default -> UpstreamConfig.Balance.valueOf(balance.toUpperCase(java.util.Locale.ROOT));
        };
        UpstreamConfig c = TestEndpoints.config(b, specs);
        c = new UpstreamConfig(c.name(), c.endpoints(), c.balance(), c.hashOn(),
                balance.equals("ring") ? UpstreamConfig.HashMethod.RING : UpstreamConfig.HashMethod.MAGLEV,
                c.discovery(), c.sticky(), c.healthCheck(), c.outlierDetection(), c.slowStart(), c.circuitBreaker(),
                c.panicThreshold(), c.connectTimeout(), c.keepalive());
        upstream = TestEndpoints.upstream(c, specs);
        for (int i = 0; i < endpoints; i++) {
            Endpoint e = upstream.endpoints().get(i);
            for (int k = 0; k <= i % 7; k++) { // 1 to 7: none idle, so least_connections scans them all
                e.state().requestStarted();
            }
            upstream.observe(e, 1_000_000L + (i * 7919L) % 100_000, false);
        }
    }

    @Benchmark
    public Endpoint choose(Request request) {
        return upstream.choose(request);
    }
}
