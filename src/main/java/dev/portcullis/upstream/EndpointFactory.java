package dev.portcullis.upstream;

import dev.portcullis.config.HostPort;
import dev.portcullis.observe.ProxyMetrics;
import java.net.InetSocketAddress;

/**
 * Makes the endpoints of a (re)compiled upstream, taking over what the previous version of the upstream knew:
 * an endpoint whose address and settings are unchanged is the same object (its pooled connections stay), and one
 * whose weight or backup flag changed keeps its state (health, ejections, load), so a reload forgets nothing.
 */
public final class EndpointFactory {
    private EndpointFactory() {}

    /**
     * @param previous the upstream of the same name in the running config, or null
     */
    public static Endpoint endpoint(String upstream, HostPort address, InetSocketAddress resolved, int weight,
                                    boolean backup, Upstream previous, ProxyMetrics metrics) {
        Endpoint old = previous == null ? null : find(previous, address, resolved);
        if (old != null && old.weight() == weight && old.backup() == backup) {
            return old;
        }
        EndpointState state = old != null ? old.state() : new EndpointState();
        if (old == null && previous != null) {
            state.markNew(); // joins a running upstream: slow start applies
        }
        return new Endpoint(upstream, address, resolved, weight, backup, metrics.endpoint(upstream, address.toString()),
                state);
    }

    private static Endpoint find(Upstream previous, HostPort address, InetSocketAddress resolved) {
        for (Endpoint e : previous.endpoints()) {
            if (e.address().equals(address) && e.socketAddress().equals(resolved)) {
                return e;
            }
        }
        return null;
    }
}
