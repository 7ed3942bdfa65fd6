package dev.portcullis.upstream.lb;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The two candidates of a power-of-two-choices pick, drawn so that the winner follows the weights whenever the
 * comparison has no reason to prefer either (equal load, or noise): with unequal weights both are drawn
 * independently by weight, with replacement. Then both have the weighted distribution, so any comparison that
 * treats them alike keeps it; drawing the second among the others instead would pull the shares toward uniform.
 * A double draw is the choice itself. With equal weights the two are distinct and uniform, which keeps the
 * shares equal and never wastes the second choice.
 */
final class TwoChoices {
    private final int n;
    private final WeightedDraw draw;

    TwoChoices(int[] weights) {
        this.n = weights.length;
        this.draw = new WeightedDraw(weights);
    }

    /** @return the first candidate in the high 32 bits, the second in the low; equal only with unequal weights */
    long draw() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int a;
        int b;
        if (draw.uniform()) {
            a = r.nextInt(n);
            b = r.nextInt(n - 1);
            if (b >= a) {
                b++;
            }
        } else {
            a = draw.next(r);
            b = draw.next(r);
        }
        return ((long) a << 32) | b;
    }

    static int first(long pair) {
        return (int) (pair >>> 32);
    }

    static int second(long pair) {
        return (int) pair;
    }
}
