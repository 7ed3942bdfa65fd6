package dev.portcullis.admin;

import dev.portcullis.observe.ProxyMetrics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** An AdminContext whose answers the tests set. */
final class TestContext implements AdminContext {
    volatile boolean ready = true;
    volatile Map<String, Object> config = Map.of();
    volatile List<UpstreamView> upstreams = List.of();
    volatile Supplier<ReloadOutcome> reload = () -> new ReloadOutcome.Applied("nothing changed");
    final AtomicReference<String> reloadThread = new AtomicReference<>();
    final ProxyMetrics metrics = new ProxyMetrics();

    @Override
    public boolean ready() {
        return ready;
    }

    @Override
    public Map<String, Object> rawConfig() {
        return config;
    }

    @Override
    public List<UpstreamView> upstreams() {
        return upstreams;
    }

    @Override
    public DrainOutcome drain(String upstream, String address, boolean drained) {
        return new DrainOutcome.NotFound("no upstream '" + upstream + "'");
    }

    @Override
    public ReloadOutcome reload() {
        reloadThread.set(Thread.currentThread().getName());
        return reload.get();
    }

    @Override
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The last purge asked for; each purge "removes" 3. */
    volatile PurgeRequest lastPurge;

    @Override
    public int purge(PurgeRequest request) {
        lastPurge = request;
        return 3;
    }
}
