package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices: two endpoints drawn at random (by weight), the one with fewer requests in flight
 * relative to its weight wins. Nearly as even as least connections, without scanning every endpoint.
 */
public final class PowerOfTwo implements Balancer {

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        if (endpoints.length == 1) {
            return ctx -> endpoints[0];
        }
        long[] prefix = Weights.prefixSums(weights);
        long total = prefix[prefix.length - 1];
        return ctx -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int a = Weights.indexOf(prefix, r.nextLong(total));
            int b = Weights.indexOf(prefix, r.nextLong(total));
            if (a == b) {
                b = a + 1 + r.nextInt(endpoints.length - 1);
                if (b >= endpoints.length) {
                    b -= endpoints.length;
                }
            }
            long la = (long) endpoints[a].state().inFlight() * weights[b];
            long lb = (long) endpoints[b].state().inFlight() * weights[a];
            return la <= lb ? endpoints[a] : endpoints[b];
        };
    }
}
