package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;

/** Helpers for effective weights (config weight × {@link #SCALE}, adjusted by agents and slow start). */
public final class Weights {
    /** A config weight of 1 is an effective weight of 100, so a slow-start ramp or an agent's 37% stays precise. */
    public static final int SCALE = 100;

    private Weights() {}

    public static long total(int[] weights) {
        long t = 0;
        for (int w : weights) {
            t += w;
        }
        return t;
    }

    /** The endpoints' states, in order: load-aware pickers read them on every pick. */
    static EndpointState[] states(Endpoint[] endpoints) {
        EndpointState[] out = new EndpointState[endpoints.length];
        for (int i = 0; i < endpoints.length; i++) {
            out[i] = endpoints[i].state();
        }
        return out;
    }

    /** Whether every weight is the same (then a uniform draw is a weighted one, and cheaper). */
    public static boolean allEqual(int[] weights) {
        for (int w : weights) {
            if (w != weights[0]) {
                return false;
            }
        }
        return true;
    }

    /** Divides every weight by their greatest common divisor: 300:100 becomes 3:1. */
    public static int[] reduced(int[] weights) {
        int g = 0;
        for (int w : weights) {
            g = gcd(g, w);
        }
        int[] out = weights.clone();
        if (g > 1) {
            for (int i = 0; i < out.length; i++) {
                out[i] /= g;
            }
        }
        return out;
    }

    /** Scales weights down so they sum to about {@code max} at most, keeping each at least 1. */
    public static int[] capped(int[] weights, int max) {
        int[] r = reduced(weights);
        long total = total(r);
        if (total <= max) {
            return r;
        }
        double f = (double) max / total;
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.max(1, (int) Math.round(r[i] * f));
        }
        return r;
    }

    /** Running sums: {@code prefix[i]} is the total weight of endpoints 0..i. */
    public static long[] prefixSums(int[] weights) {
        long[] p = new long[weights.length];
        long t = 0;
        for (int i = 0; i < weights.length; i++) {
            t += weights[i];
            p[i] = t;
        }
        return p;
    }

    /** The index whose range of the prefix sums holds {@code point} (0 ≤ point < total). */
    public static int indexOf(long[] prefix, long point) {
        int lo = 0;
        int hi = prefix.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (prefix[mid] > point) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
