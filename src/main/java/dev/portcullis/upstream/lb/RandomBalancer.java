package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.ThreadLocalRandom;

/** Weighted random: each request draws an endpoint with probability proportional to its weight. */
public final class RandomBalancer implements Balancer {

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        WeightedDraw draw = new WeightedDraw(weights);
        return ctx -> endpoints[draw.next(ThreadLocalRandom.current())];
    }
}
