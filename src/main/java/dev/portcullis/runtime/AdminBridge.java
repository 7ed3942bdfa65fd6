package dev.portcullis.runtime;

import dev.portcullis.admin.AdminContext;
import dev.portcullis.admin.EndpointView;
import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.admin.UpstreamView;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The running process as the admin API sees it. */
final class AdminBridge implements AdminContext {
    private final Portcullis process;

    AdminBridge(Portcullis process) {
        this.process = process;
    }

    @Override
    public boolean ready() {
        return process.ready();
    }

    @Override
    public Map<String, Object> rawConfig() {
        return process.snapshot().config().raw();
    }

    @Override
    public List<UpstreamView> upstreams() {
        List<UpstreamView> out = new ArrayList<>();
        for (Upstream u : process.snapshot().upstreams().values()) {
            List<EndpointView> eps = new ArrayList<>();
            for (Endpoint e : u.endpoints()) {
                // No active health checking yet: endpoints are "unchecked" until issue #3 adds it.
                eps.add(new EndpointView(e.label(), e.weight(), e.backup(), "unchecked",
                        e.stats().activeRequests(), e.stats().failures(), null));
            }
            out.add(new UpstreamView(u.name(), u.config().balance().name().toLowerCase(Locale.ROOT), eps));
        }
        return out;
    }

    @Override
    public ReloadOutcome reload() {
        return process.reload("admin API");
    }

    @Override
    public ProxyMetrics metrics() {
        return process.metrics();
    }
}
