package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Weighted round robin without bursts: the order is nginx's "smooth weighted" sequence, computed once per
 * endpoint-set change (so weights 5:1:1 give a a b a c a a, not a a a a a b c). A request takes the next slot
 * with one atomic increment. Weights are reduced by their common divisor and the schedule is kept to at most
 * {@value #MAX_SCHEDULE} slots (fractional slow-start weights are rounded to fit).
 */
public final class RoundRobin implements Balancer {
    static final int MAX_SCHEDULE = 4096;
    /** Shared by every picker of this upstream, so a rebuild does not restart the rotation at the first endpoint. */
    private final AtomicLong cursor = new AtomicLong();

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int[] order = smoothOrder(weights);
        Endpoint[] schedule = new Endpoint[order.length];
        for (int i = 0; i < order.length; i++) {
            schedule[i] = endpoints[order[i]];
        }
        return ctx -> schedule[(int) Math.floorMod(cursor.getAndIncrement(), (long) schedule.length)];
    }

    /**
     * One cycle of smooth weighted round robin over {@code weights} (reduced and capped to {@value #MAX_SCHEDULE}):
     * each slot, every index gains its weight and the richest is chosen and pays the total. Indexes, not endpoints.
     */
    static int[] smoothOrder(int[] weights) {
        int[] w = Weights.capped(weights, MAX_SCHEDULE);
        int total = (int) Weights.total(w);
        int[] out = new int[total];
        long[] current = new long[w.length];
        for (int slot = 0; slot < total; slot++) {
            int best = -1;
            for (int i = 0; i < w.length; i++) {
                current[i] += w[i];
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            out[slot] = best;
        }
        return out;
    }
}
