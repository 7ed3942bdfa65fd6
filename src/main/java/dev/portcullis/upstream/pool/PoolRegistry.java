package dev.portcullis.upstream.pool;

import dev.portcullis.net.Transport;
import dev.portcullis.upstream.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/** One {@link UpstreamPools} per worker event loop, created at start; immutable afterwards. */
public final class PoolRegistry {
    private final Map<EventLoop, UpstreamPools> byLoop = new IdentityHashMap<>();

    public PoolRegistry(EventLoopGroup workers, Transport transport) {
        for (EventExecutor e : workers) {
            EventLoop loop = (EventLoop) e;
            byLoop.put(loop, new UpstreamPools(loop, transport));
        }
    }

    public UpstreamPools forLoop(EventLoop loop) {
        UpstreamPools p = byLoop.get(loop);
        if (p == null) {
            throw new IllegalStateException("no upstream pools for event loop " + loop);
        }
        return p;
    }

    /** The endpoints left the config: close their idle connections on every loop, pool none of them again. */
    public void retire(Collection<Endpoint> endpoints) {
        endpoints.forEach(Endpoint::retire);
        byLoop.values().forEach(p -> p.loop().execute(() -> endpoints.forEach(p::closeIdle)));
    }

    public void closeAll() {
        byLoop.values().forEach(p -> p.loop().execute(p::closeAll));
    }
}
