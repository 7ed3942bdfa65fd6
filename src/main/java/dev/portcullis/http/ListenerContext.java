package dev.portcullis.http;

import dev.portcullis.l4.Relay;
import dev.portcullis.l4.socks.SocksHandshake;
import dev.portcullis.observe.AccessLog;
import dev.portcullis.observe.ListenerStats;
import dev.portcullis.upstream.pool.PoolRegistry;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every connection of one bound listener shares: the current compiled listener (swapped on reload; a
 * request keeps the one it started with), the access log, metrics, the upstream pools, and the set of open
 * client connections for max_connections and graceful drain.
 */
public final class ListenerContext {
    private final String name;
    private final ListenerStats stats;
    private final PoolRegistry pools;
    private final ChannelGroup connections;
    private final AtomicInteger connectionCount = new AtomicInteger();
    private volatile ListenerRuntime runtime;
    private volatile AccessLog accessLog;
    private volatile boolean draining;

    public ListenerContext(ListenerRuntime runtime, AccessLog accessLog, ListenerStats stats, PoolRegistry pools) {
        this.name = runtime.name();
        this.runtime = runtime;
        this.accessLog = accessLog;
        this.stats = stats;
        this.pools = pools;
        this.connections = new DefaultChannelGroup("listener-" + name, GlobalEventExecutor.INSTANCE);
    }

    public String name() {
        return name;
    }

    public ListenerRuntime runtime() {
        return runtime;
    }

    public void update(ListenerRuntime runtime, AccessLog accessLog) {
        this.runtime = runtime;
        this.accessLog = accessLog;
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    public ListenerStats stats() {
        return stats;
    }

    public PoolRegistry pools() {
        return pools;
    }

    public ChannelGroup connections() {
        return connections;
    }

    /**
     * Counts a new client connection against {@code limits.max_connections} and tracks it until it closes (for
     * the connection metrics and a drain). False when the listener is full: the caller refuses the connection in
     * its protocol's way and closes it; it was not counted.
     */
    public boolean admit(Channel ch, int maxConnections) {
        if (connectionCount.incrementAndGet() > maxConnections) {
            connectionCount.decrementAndGet();
            stats.connectionRejected();
            return false;
        }
        stats.connectionOpened();
        ch.closeFuture().addListener(f -> {
            connectionCount.decrementAndGet();
            stats.connectionClosed();
        });
        connections.add(ch);
        return true;
    }

    public int openConnections() {
        return connectionCount.get();
    }

    public boolean draining() {
        return draining;
    }

    /**
     * Stop keeping connections alive: idle HTTP/1 ones close now, busy ones after their current response; HTTP/2
     * ones get GOAWAY and close once their open streams are done. WebSocket, CONNECT and SOCKS5 tunnels go on
     * until they end or the shutdown timeout closes every connection; a SOCKS5 handshake finishes first (it is
     * bounded by header_read_timeout).
     */
    public void startDrain() {
        draining = true;
        connections.forEach(ch -> ch.eventLoop().execute(() -> {
            HttpProxyHandler h = ch.pipeline().get(HttpProxyHandler.class);
            Http2ConnectionGuard h2 = h == null ? ch.pipeline().get(Http2ConnectionGuard.class) : null;
            if (h != null) {
                h.drain();
            } else if (h2 != null) {
                h2.drain(); // GOAWAY; open streams finish
            } else if (ch.pipeline().get(Relay.Side.class) == null
                    && ch.pipeline().get(SocksHandshake.class) == null) {
                ch.close();
            }
        }));
    }
}
