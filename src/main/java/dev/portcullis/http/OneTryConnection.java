package dev.portcullis.http;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.pool.UpstreamConnection;
import dev.portcullis.upstream.pool.UpstreamPools;
import io.netty.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The connection of a leg that makes one try on its own (a mirror copy, a background refresh): the endpoint's idle
 * pooled connection, else a new one. A connection that arrives after the leg gave up is discarded.
 */
final class OneTryConnection {
    private OneTryConnection() {
    }

    /**
     * @param gaveUp   whether the leg ended meanwhile (then a late connection is discarded)
     * @param attach   gets the connection (at once for a pooled one)
     * @param failed   gets why connecting failed ({@link dev.portcullis.upstream.pool.CircuitOpenException} when the
     *                 breaker refused it)
     */
    static void borrow(UpstreamPools pools, Endpoint endpoint, Upstream upstream, BooleanSupplier gaveUp,
                       Consumer<UpstreamConnection> attach, Consumer<Throwable> failed) {
        UpstreamConnection c = pools.poll(endpoint, upstream);
        if (c != null) {
            attach.accept(c);
            return;
        }
        Future<UpstreamConnection> f = pools.connect(endpoint, upstream);
        if (f.isDone()) {
            connected(f, gaveUp, attach, failed);
        } else {
            f.addListener(x -> connected(f, gaveUp, attach, failed));
        }
    }

    private static void connected(Future<UpstreamConnection> f, BooleanSupplier gaveUp,
                                  Consumer<UpstreamConnection> attach, Consumer<Throwable> failed) {
        if (gaveUp.getAsBoolean()) {
            if (f.isSuccess()) {
                f.getNow().discard();
            }
        } else if (f.isSuccess()) {
            attach.accept(f.getNow());
        } else {
            failed.accept(f.cause());
        }
    }
}
