package dev.portcullis.upstream;

import dev.portcullis.config.HostPort;
import dev.portcullis.observe.EndpointStats;
import java.net.InetSocketAddress;

/**
 * One address of an upstream. Its identity is immutable and reused across reloads while its address and settings
 * are unchanged, so it doubles as the key of the per-event-loop connection pools; what changes at run time
 * (health, ejection, drain, load) is in its {@link EndpointState}.
 */
public final class Endpoint {
    private final String upstreamName;
    private final HostPort address;
    private final InetSocketAddress socketAddress;
    private final int weight;
    private final boolean backup;
    private final String label;
    private final EndpointStats stats;
    private final EndpointState state;
    private volatile boolean retired;

    public Endpoint(String upstreamName, HostPort address, InetSocketAddress socketAddress, int weight,
                    boolean backup, EndpointStats stats, EndpointState state) {
        this.upstreamName = upstreamName;
        this.address = address;
        this.socketAddress = socketAddress;
        this.weight = weight;
        this.backup = backup;
        this.label = address.toString();
        this.stats = stats;
        this.state = state;
    }

    public EndpointState state() {
        return state;
    }

    /** A request was sent to it (counted for least-connections balancing and for metrics); pair with {@link #requestFinished}. */
    public void requestStarted() {
        state.requestStarted();
        stats.requestStarted();
    }

    public void requestFinished() {
        state.requestFinished();
        stats.requestFinished();
    }


    public String upstreamName() {
        return upstreamName;
    }

    public HostPort address() {
        return address;
    }

    /** Resolved when the config was compiled; never resolved on an event loop. */
    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    public int weight() {
        return weight;
    }

    public boolean backup() {
        return backup;
    }

    public EndpointStats stats() {
        return stats;
    }

    /** {@code host:port} as configured; used in logs, metrics and the admin API, never sent to clients. */
    public String label() {
        return label;
    }

    /** Set when a reload dropped or replaced this endpoint's upstream: its connections are not pooled again. */
    public void retire() {
        retired = true;
    }

    public boolean retired() {
        return retired;
    }

    @Override
    public String toString() {
        return upstreamName + "/" + label;
    }
}
