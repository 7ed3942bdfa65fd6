package dev.portcullis.runtime;

import dev.portcullis.admin.AdminContext;
import dev.portcullis.admin.DrainOutcome;
import dev.portcullis.admin.EndpointView;
import dev.portcullis.admin.PurgeRequest;
import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.admin.UpstreamView;
import dev.portcullis.cache.shared.PurgeBroadcast;
import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.http.CompiledRoute;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.http.RouteCache;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import dev.portcullis.upstream.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The running process as the admin API sees it. */
final class AdminBridge implements AdminContext {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminBridge.class);
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
                eps.add(view(u, e));
            }
            out.add(new UpstreamView(u.name(), u.config().balance().key, u.set().panic(), u.set().active().length,
                    u.breaker().connections(), u.breaker().pending(),
                    u.endpoints().stream().mapToInt(e -> e.state().inFlight()).sum(), eps));
        }
        return out;
    }

    static EndpointView view(Upstream u, Endpoint e) {
        EndpointState s = e.state();
        long now = System.nanoTime();
        String health;
        if (s.agentDown()) {
            health = "down";
        } else if (s.refusesNewRequests()) {
            health = "draining"; // by the admin API, or by its agent ("drain" or 0%)
        } else if (s.ejected(now)) {
            health = "ejected";
        } else {
            health = s.healthy() ? "healthy" : "unhealthy";
        }
        long until = s.ejectedUntilEpochMillis();
        return new EndpointView(e.label(), e.weight(), u.effectiveWeightNow(e), e.backup(), health,
                u.config().healthCheck() != null, s.inFlight(), e.stats().failures(), s.consecutiveFailures(),
                s.ejections(), until == 0 ? null : until, s.drained(), s.agentWeightPercent());
    }

    @Override
    public DrainOutcome drain(String upstream, String address, boolean drained) {
        Upstream u = process.snapshot().upstreams().get(upstream);
        if (u == null) {
            return new DrainOutcome.NotFound("no upstream '" + upstream + "'; upstreams: "
                    + String.join(", ", process.snapshot().upstreams().keySet()));
        }
        for (Endpoint e : u.endpoints()) {
            if (e.label().equalsIgnoreCase(address)) {
                e.state().drained(drained);
                u.refresh();
                log.info("upstream {}: endpoint {} {} by the admin API", u.name(), e.label(),
                        drained ? "drained (no new requests; those in flight finish)" : "back in service");
                return new DrainOutcome.Done(view(u, e));
            }
        }
        return new DrainOutcome.NotFound("upstream '" + upstream + "' has no endpoint '" + address + "'; endpoints: "
                + String.join(", ", u.endpoints().stream().map(Endpoint::label).toList()));
    }

    @Override
    public ReloadOutcome reload() {
        return process.reload("admin API");
    }

    @Override
    public ProxyMetrics metrics() {
        return process.metrics();
    }

    /**
     * A URL is keyed the way each caching route keys it (its query shaping applies), in that route's zone, with
     * every variant and key extension; a prefix is matched against stored keys ({@code scheme://host[:port]/path?query},
     * scheme and host in lower case, no default port); a tag in every zone. With a {@code redis} section the
     * zone-level purges made here are published, and every other instance sharing it makes them too.
     */
    @Override
    public int purge(PurgeRequest request) {
        Snapshot s = process.snapshot();
        List<PurgeBroadcast.Purge> purges = new ArrayList<>();
        if (request instanceof PurgeRequest.Url u) {
            java.net.URI uri = java.net.URI.create(u.url().replace(" ", "%20"));
            String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
            String pathAndQuery = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            java.util.Set<String> done = new java.util.HashSet<>();
            for (ListenerRuntime l : s.listeners().values()) {
                for (CompiledRoute r : l.routes().routes()) {
                    RouteCache rc = r.cache();
                    if (rc == null) {
                        continue;
                    }
                    String base = rc.keys().base(uri.getScheme(), authority, pathAndQuery);
                    if (done.add(rc.zone().name() + "\u0000" + base)) {
                        // the URL's every variant, then its key extensions (headers, cookies): lines after the base
                        purges.add(new PurgeBroadcast.Purge(rc.zone().name(), PurgeBroadcast.Kind.KEY, base));
                        purges.add(new PurgeBroadcast.Purge(rc.zone().name(), PurgeBroadcast.Kind.PREFIX, base + "\n"));
                    }
                }
            }
        } else if (request instanceof PurgeRequest.Prefix p) {
            for (CacheZone z : s.caches().values()) {
                purges.add(new PurgeBroadcast.Purge(z.name(), PurgeBroadcast.Kind.PREFIX, p.prefix()));
            }
        } else if (request instanceof PurgeRequest.Tag t) {
            for (CacheZone z : s.caches().values()) {
                purges.add(new PurgeBroadcast.Purge(z.name(), PurgeBroadcast.Kind.TAG, t.tag()));
            }
        }
        int purged = 0;
        for (PurgeBroadcast.Purge p : purges) {
            purged += PurgeBroadcast.apply(s.caches().get(p.zone()), p);
        }
        if (s.redis() != null) {
            process.purges().publish(s.redis(), purges);
        }
        return purged;
    }
}
