package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.ThreadLocalRandom;

/** Weighted random: a uniform point on the running sum of weights, found by binary search. */
public final class RandomBalancer implements Balancer {

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        long[] prefix = Weights.prefixSums(weights);
        long total = prefix[prefix.length - 1];
        return ctx -> endpoints[Weights.indexOf(prefix, ThreadLocalRandom.current().nextLong(total))];
    }
}
