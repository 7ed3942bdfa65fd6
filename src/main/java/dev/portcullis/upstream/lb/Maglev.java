package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: a lookup table of {@value #TABLE_SIZE}
 * slots (a prime) filled by each endpoint's own permutation, in turns proportional to its weight. A request takes
 * slot {@code hash mod size}: one array read. When one of N endpoints leaves, its keys (about 1/N) move and only a
 * few others do; each endpoint's share of slots follows its weight within a slot.
 */
public final class Maglev implements Balancer {
    static final int TABLE_SIZE = 65537;

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        Endpoint[] table = table(endpoints, weights, TABLE_SIZE);
        return ctx -> table[(int) Math.floorMod(ctx.hashKey(), (long) table.length)];
    }

    static Endpoint[] table(Endpoint[] endpoints, int[] weights, int size) {
        int n = endpoints.length;
        // Filled in address order, whatever order the set lists them in: the same endpoints and weights always give
        // the same table (in every proxy instance too), and slot contention is settled alike.
        Integer[] byLabel = new Integer[n];
        for (int i = 0; i < n; i++) {
            byLabel[i] = i;
        }
        Arrays.sort(byLabel, Comparator.comparing(i -> endpoints[i].label()));
        Endpoint[] eps = new Endpoint[n];
        long[] offset = new long[n];
        long[] skip = new long[n];
        long[] next = new long[n];
        double[] share = new double[n];
        double[] credit = new double[n];
        int maxWeight = 1;
        for (int w : weights) {
            maxWeight = Math.max(maxWeight, w);
        }
        for (int j = 0; j < n; j++) {
            int i = byLabel[j];
            eps[j] = endpoints[i];
            // Keyed by address, not position: an endpoint keeps its permutation when others come and go.
            String key = endpoints[i].label();
            offset[j] = Math.floorMod(Hashing.hash(key, 1), (long) size);
            skip[j] = Math.floorMod(Hashing.hash(key, 2), (long) (size - 1)) + 1;
            share[j] = (double) weights[i] / maxWeight;
        }
        Endpoint[] table = new Endpoint[size];
        int filled = 0;
        while (true) {
            for (int j = 0; j < n; j++) {
                // Each round the heaviest endpoint takes a slot and a lighter one only when its credit says so.
                credit[j] += share[j];
                if (credit[j] < 1) {
                    continue;
                }
                credit[j] -= 1;
                int slot;
                do {
                    slot = (int) ((offset[j] + next[j] * skip[j]) % size);
                    next[j]++;
                } while (table[slot] != null);
                table[slot] = eps[j];
                if (++filled == size) {
                    return table;
                }
            }
        }
    }
}
