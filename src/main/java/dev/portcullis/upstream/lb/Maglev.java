package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: a lookup table of {@value #TABLE_SIZE}
 * slots (a prime) filled by each endpoint's own permutation, in turns proportional to its weight. A request takes
 * slot {@code hash mod size}: one array read. When one of N endpoints leaves, about 1/N of keys move.
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
        long[] offset = new long[n];
        long[] skip = new long[n];
        long[] next = new long[n];
        double[] credit = new double[n];
        int maxWeight = 1;
        for (int i = 0; i < n; i++) {
            // Keyed by address, not position: an endpoint keeps its permutation when others come and go.
            String key = endpoints[i].label();
            offset[i] = Math.floorMod(Hashing.hash(key, 1), (long) size);
            skip[i] = Math.floorMod(Hashing.hash(key, 2), (long) (size - 1)) + 1;
            maxWeight = Math.max(maxWeight, weights[i]);
        }
        Endpoint[] table = new Endpoint[size];
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                credit[i] += (double) weights[i] / maxWeight;
                if (credit[i] < 1) {
                    continue;
                }
                credit[i] -= 1;
                int slot;
                do {
                    slot = (int) ((offset[i] + next[i] * skip[i]) % size);
                    next[i]++;
                } while (table[slot] != null);
                table[slot] = endpoints[i];
                if (++filled == size) {
                    return table;
                }
            }
        }
    }
}
