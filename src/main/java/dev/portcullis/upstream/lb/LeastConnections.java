package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fewest requests in flight relative to weight ({@code inFlight / weight}, compared without division). Ties are
 * broken round robin: the scan starts one endpoint further each time, and the first of equals wins.
 */
public final class LeastConnections implements Balancer {
    private final AtomicLong cursor = new AtomicLong();

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int n = endpoints.length;
        return ctx -> {
            int start = (int) Math.floorMod(cursor.getAndIncrement(), (long) n);
            Endpoint best = null;
            long bestLoad = 0;
            int bestWeight = 1;
            for (int k = 0; k < n; k++) {
                int i = start + k;
                if (i >= n) {
                    i -= n;
                }
                Endpoint e = endpoints[i];
                long load = e.state().inFlight();
                // load / weight < bestLoad / bestWeight, without division
                if (best == null || load * bestWeight < bestLoad * weights[i]) {
                    best = e;
                    bestLoad = load;
                    bestWeight = weights[i];
                }
            }
            return best;
        };
    }
}
