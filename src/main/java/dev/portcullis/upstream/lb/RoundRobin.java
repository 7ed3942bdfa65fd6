package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Weighted round robin without bursts: the order is nginx's "smooth weighted" sequence, computed once when
 * the config is compiled (so weights 5:1:1 give a a b a c a a, not a a a a a b c). A request takes the next
 * slot with one atomic increment; a retry after a connect failure walks on to the next distinct endpoint.
 * Backup endpoints are tried only after every primary one.
 */
public final class RoundRobin implements LoadBalancer {
    private final Endpoint[] schedule;
    private final Endpoint[] fallbackOrder;
    private final int primaries;
    private final AtomicLong cursor = new AtomicLong();

    public RoundRobin(List<Endpoint> endpoints) {
        List<Endpoint> primary = new ArrayList<>();
        List<Endpoint> backup = new ArrayList<>();
        for (Endpoint e : endpoints) {
            (e.backup() ? backup : primary).add(e);
        }
        if (primary.isEmpty()) {
            primary = backup;
            backup = List.of();
        }
        this.schedule = smoothSchedule(primary);
        this.primaries = primary.size();
        List<Endpoint> order = new ArrayList<>(primary);
        order.addAll(backup);
        this.fallbackOrder = order.toArray(Endpoint[]::new);
    }

    static Endpoint[] smoothSchedule(List<Endpoint> endpoints) {
        int total = 0;
        for (Endpoint e : endpoints) {
            total += e.weight();
        }
        if (total == 0) {
            return new Endpoint[0];
        }
        Endpoint[] out = new Endpoint[total];
        int[] current = new int[endpoints.size()];
        for (int slot = 0; slot < total; slot++) {
            int best = -1;
            for (int i = 0; i < endpoints.size(); i++) {
                current[i] += endpoints.get(i).weight();
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            out[slot] = endpoints.get(best);
        }
        return out;
    }

    @Override
    public long nextTicket() {
        return cursor.getAndIncrement();
    }

    @Override
    public Endpoint pick(long ticket, int attempt) {
        if (schedule.length == 0) {
            return null;
        }
        Endpoint first = schedule[(int) Math.floorMod(ticket, (long) schedule.length)];
        if (attempt == 0) {
            return first;
        }
        // Later attempts: every other endpoint once, primaries first, starting after the first choice.
        if (attempt >= fallbackOrder.length) {
            return null;
        }
        int start = 0;
        for (int i = 0; i < primaries; i++) {
            if (fallbackOrder[i] == first) {
                start = i;
                break;
            }
        }
        if (attempt < primaries) {
            return fallbackOrder[(start + attempt) % primaries];
        }
        return fallbackOrder[attempt];
    }
}
