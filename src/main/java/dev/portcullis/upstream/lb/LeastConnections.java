package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fewest requests in flight relative to weight ({@code inFlight / weight}, compared without division), as nginx's
 * {@code least_conn}, with ties broken round robin. Each pick takes the next slot of the smooth weighted schedule
 * ({@link RoundRobin#smoothOrder}); that endpoint wins when it is among the least loaded, so idle endpoints (light
 * load) get requests exactly by weight instead of all going to the first one. Otherwise the least loaded wins, and
 * when several tie, the next of them in the schedule, so they take turns by weight. One scan of the set per pick
 * (and a walk along the schedule on a tie): plain atomic reads, no lock.
 */
public final class LeastConnections implements Balancer {
    /** Shared by every picker of this upstream, so a rebuild does not restart the rotation. */
    private final AtomicLong cursor = new AtomicLong();

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        int n = endpoints.length;
        int[] order = RoundRobin.smoothOrder(weights);
        EndpointState[] states = Weights.states(endpoints); // one pointer less to chase per endpoint scanned
        return ctx -> {
            long turn = cursor.getAndIncrement();
            int start = order[(int) Math.floorMod(turn, (long) order.length)];
            long startLoad = states[start].inFlight();
            if (startLoad == 0) {
                return endpoints[start]; // nothing is less loaded than idle
            }
            int best = start;
            long bestLoad = startLoad;
            long bestWeight = weights[start];
            int ties = 1;
            for (int i = 0; i < n; i++) {
                if (i == start) {
                    continue;
                }
                long load = states[i].inFlight();
                if (load == 0) {
                    // An idle one: nothing is less loaded, so skip the rest of the scan; the walk below takes the
                    // next idle endpoint in the schedule (this one, or another idle one due its turn first).
                    bestLoad = 0;
                    best = i;
                    ties = 2;
                    break;
                }
                // sign of load / weights[i] - bestLoad / bestWeight, without division
                long d = load * bestWeight - bestLoad * weights[i];
                if (d < 0) {
                    best = i;
                    bestLoad = load;
                    bestWeight = weights[i];
                    ties = 1;
                } else if (d == 0) {
                    ties++;
                }
            }
            if (startLoad * bestWeight == bestLoad * weights[start]) {
                return endpoints[start]; // the schedule's endpoint is among the least loaded (or is the least)
            }
            if (ties == 1) {
                return endpoints[best];
            }
            // Several equally least loaded: the next of them in the schedule, and the cursor skips what was passed
            // over, so the tied ones take turns by weight (loads may move meanwhile; then the first found).
            for (int step = 1; step < order.length; step++) {
                int i = order[(int) Math.floorMod(turn + step, (long) order.length)];
                if (states[i].inFlight() * bestWeight == bestLoad * weights[i]) {
                    cursor.addAndGet(step);
                    return endpoints[i];
                }
            }
            return endpoints[best];
        };
    }
}
