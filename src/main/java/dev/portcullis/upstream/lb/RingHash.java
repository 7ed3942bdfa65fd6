package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.Arrays;

/**
 * Ketama-style hash ring: each endpoint owns points on a 64-bit ring in proportion to its weight
 * ({@value #POINTS_PER_WEIGHT} per unit of the smallest weight, at most {@value #MAX_POINTS} in all); a request
 * goes to the first point at or after its hash, found by binary search.
 */
public final class RingHash implements Balancer {
    static final int POINTS_PER_WEIGHT = 160;
    static final int MAX_POINTS = 1 << 17;

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int[] w = Weights.reduced(weights);
        long total = Weights.total(w);
        double perUnit = Math.min(POINTS_PER_WEIGHT, (double) MAX_POINTS / total);
        int count = 0;
        int[] points = new int[endpoints.length];
        for (int i = 0; i < endpoints.length; i++) {
            points[i] = Math.max(1, (int) Math.round(w[i] * perUnit));
            count += points[i];
        }
        long[] hashes = new long[count];
        int k = 0;
        for (int i = 0; i < endpoints.length; i++) {
            String key = endpoints[i].label();
            for (int p = 0; p < points[i]; p++) {
                // the endpoint's index in the low bits keeps the owner with the hash through the sort
                hashes[k++] = (Hashing.hash(key, p) & ~0xFFFFL) | i;
            }
        }
        Arrays.sort(hashes);
        Endpoint[] owners = new Endpoint[count];
        for (int j = 0; j < count; j++) {
            owners[j] = endpoints[(int) (hashes[j] & 0xFFFF)];
        }
        int size = count;
        return ctx -> {
            long h = ctx.hashKey() | 0xFFFFL;
            int at = Arrays.binarySearch(hashes, h);
            if (at < 0) {
                at = -at - 1;
            }
            return owners[at == size ? 0 : at];
        };
    }
}
