package dev.portcullis.upstream.lb;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.config.UpstreamConfig.Balance;
import dev.portcullis.config.UpstreamConfig.HashMethod;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.TestEndpoints;
import dev.portcullis.upstream.TestEndpoints.Tries;
import dev.portcullis.upstream.Upstream;
import java.util.LinkedHashMap;
import java.util.Map;

/** The seven algorithms by name, upstreams built from endpoint specs ("a", "b:3", "x:1:backup"), pick counting. */
final class LbFixtures {
    private LbFixtures() {}

    static final String[] ALGORITHMS = {"round_robin", "least_connections", "random", "power_of_two", "peak_ewma",
            "maglev", "ring"};

    static UpstreamConfig config(String algorithm, double panicThreshold, String... specs) {
        Balance balance = switch (algorithm) {
            case "maglev", "ring" -> Balance.CONSISTENT_HASH;
            default -> Balance.valueOf(algorithm.toUpperCase(java.util.Locale.ROOT));
        };
        UpstreamConfig c = TestEndpoints.config(balance, specs);
        return new UpstreamConfig(c.name(), c.endpoints(), c.balance(), c.hashOn(),
                algorithm.equals("ring") ? HashMethod.RING : HashMethod.MAGLEV, c.discovery(), c.sticky(),
                c.healthCheck(), c.outlierDetection(), c.slowStart(), c.circuitBreaker(), panicThreshold,
                c.connectTimeout(), c.keepalive());
    }

    static Upstream upstream(String algorithm, String... specs) {
        return TestEndpoints.upstream(config(algorithm, UpstreamConfig.DEFAULT_PANIC_THRESHOLD, specs), specs);
    }

    static Upstream upstream(String algorithm, double panicThreshold, String... specs) {
        return TestEndpoints.upstream(config(algorithm, panicThreshold, specs), specs);
    }

    static Endpoint endpoint(Upstream u, String host) {
        for (Endpoint e : u.endpoints()) {
            if (e.address().host().equals(host)) {
                return e;
            }
        }
        throw new IllegalArgumentException(host);
    }

    /** First tries of {@code picks} requests; hash keys spread over the 64-bit space. */
    static Map<String, Integer> count(Upstream u, int picks) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Endpoint e : u.endpoints()) {
            counts.put(e.address().host(), 0);
        }
        Tries t = new Tries();
        for (int i = 0; i < picks; i++) {
            t.hash = Hashing.mix(i);
            counts.merge(u.choose(t).address().host(), 1, Integer::sum);
        }
        return counts;
    }

    static void inFlight(Endpoint e, int n) {
        while (e.state().inFlight() < n) {
            e.state().requestStarted();
        }
        while (e.state().inFlight() > n) {
            e.state().requestFinished();
        }
    }
}
