package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.Arrays;

/**
 * Ketama-style hash ring: each endpoint owns points on a 64-bit ring, {@value #POINTS_PER_WEIGHT} per unit of its
 * own configured weight (so slow start and agents scale its points too); a request goes to the first point after
 * its hash, found through an index by the hash's top bits and a binary search within its bucket. An endpoint's
 * points depend only on its address and its own weight, never on the others: when one leaves, only the keys on its
 * points move, and they spread over the rest. Above
 * {@value #MAX_POINTS} points in all, every endpoint's count is scaled down alike.
 */
public final class RingHash implements Balancer {
    /** Points for a weight of 1: with N points an endpoint's share of keys is off by about 1/√N (here ~3%). */
    static final int POINTS_PER_WEIGHT = 1024;
    static final int MAX_POINTS = 1 << 18;
    /** The low bits of a point hold the owner's index (so one sort keeps owner and point together). */
    private static final int INDEX_BITS = 20;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int n = endpoints.length;
        if (n > INDEX_MASK) {
            throw new IllegalArgumentException("a hash ring takes at most " + INDEX_MASK + " endpoints, not " + n);
        }
        double perWeight = (double) POINTS_PER_WEIGHT / Weights.SCALE;
        double wanted = Weights.total(weights) * perWeight;
        if (wanted > MAX_POINTS) {
            perWeight *= MAX_POINTS / wanted;
        }
        int[] points = new int[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            points[i] = (int) Math.max(1, Math.round(weights[i] * perWeight));
            count += points[i];
        }
        long[] ring = new long[count];
        int k = 0;
        for (int i = 0; i < n; i++) {
            long seed = Hashing.hash(endpoints[i].label());
            for (int p = 0; p < points[i]; p++) {
                ring[k++] = (Hashing.mix(seed + (p + 1) * 0x9E3779B97F4A7C15L) & ~INDEX_MASK) | i;
            }
        }
        Arrays.sort(ring);
        Endpoint[] owners = new Endpoint[count];
        for (int j = 0; j < count; j++) {
            owners[j] = endpoints[(int) (ring[j] & INDEX_MASK)];
        }
        // An index over the ring by the top bits of a hash, about one point per bucket: a lookup binary-searches
        // only its bucket (a probe or two) instead of the whole ring (17 probes, mostly cache misses, at 100k points).
        int bits = Math.max(1, 64 - Long.numberOfLeadingZeros(count - 1L));
        int shift = 64 - bits;
        int[] bucketStart = new int[(1 << bits) + 1];
        int j = 0;
        for (int b = 0; b <= 1 << bits; b++) {
            while (j < count && bucket(ring[j], shift) < b) {
                j++;
            }
            bucketStart[b] = j;
        }
        return ctx -> {
            // With every index bit set the key sorts after any point of the same high bits, and equals none.
            long key = ctx.hashKey() | INDEX_MASK;
            int b = bucket(key, shift);
            int from = bucketStart[b];
            int to = bucketStart[b + 1];
            int at = from == to ? to : -Arrays.binarySearch(ring, from, to, key) - 1;
            return owners[at == owners.length ? 0 : at];
        };
    }

    /** The bucket of a point: its top bits in unsigned order (the ring is sorted as signed longs). */
    private static int bucket(long point, int shift) {
        return (int) ((point ^ Long.MIN_VALUE) >>> shift);
    }
}
