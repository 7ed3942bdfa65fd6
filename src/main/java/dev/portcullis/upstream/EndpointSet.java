package dev.portcullis.upstream;

import dev.portcullis.upstream.lb.PickContext;
import dev.portcullis.upstream.lb.Picker;

/**
 * The endpoints an upstream sends new requests to now, with the balancer's picker built over them. Immutable;
 * {@link Upstream#refresh()} swaps in a new one when health, ejection, drain or weights change.
 *
 * @param active   what the picker chooses among (healthy primaries; backups when no primary is; all in panic)
 * @param fallback every endpoint not drained, healthy first, primaries before backups: a retry walks these for one
 *                 not tried yet
 * @param panic    too few primaries are healthy, so health is ignored (Envoy's panic threshold)
 * @param picker   null when {@code active} is empty
 */
public record EndpointSet(Endpoint[] active, int[] weights, Endpoint[] fallback, boolean panic, Picker picker) {

    static final EndpointSet EMPTY = new EndpointSet(new Endpoint[0], new int[0], new Endpoint[0], false, null);

    /**
     * The picker's choice unless an earlier try had it; else another endpoint of the active set not tried yet;
     * else one not tried among all endpoints not drained (backups and unhealthy ones, as nginx tries every server
     * before giving up). Null when every endpoint was tried, and at once when the active set is empty (no healthy
     * endpoint and panic off): then there is nothing to balance over and the request fails fast.
     */
    public Endpoint choose(PickContext ctx) {
        if (picker == null) {
            return null;
        }
        Endpoint e = picker.pick(ctx);
        if (!ctx.tried(e)) {
            return e;
        }
        int start = indexOf(active, e);
        for (int k = 1; k <= active.length; k++) {
            Endpoint c = active[(start + k) % active.length];
            if (!ctx.tried(c)) {
                return c;
            }
        }
        for (Endpoint c : fallback) {
            if (!ctx.tried(c)) {
                return c;
            }
        }
        return null;
    }

    private static int indexOf(Endpoint[] a, Endpoint e) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == e) {
                return i;
            }
        }
        return 0;
    }

    /** Whether new requests may be balanced to {@code e} (a scan; for the failure path, not per request). */
    public boolean contains(Endpoint e) {
        for (Endpoint a : active) {
            if (a == e) {
                return true;
            }
        }
        return false;
    }

    /** Whether some endpoint is left that {@code ctx} has not tried, without moving any balancer's cursor. */
    public boolean anyUntried(PickContext ctx) {
        for (Endpoint a : active) {
            if (!ctx.tried(a)) {
                return true;
            }
        }
        for (Endpoint f : fallback) {
            if (!ctx.tried(f)) {
                return true;
            }
        }
        return false;
    }
}
