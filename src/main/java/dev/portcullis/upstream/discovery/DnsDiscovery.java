package dev.portcullis.upstream.discovery;

import dev.portcullis.config.HostPort;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointFactory;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code discovery: { dns: NAME:PORT, refresh }}: the upstream's endpoints are its configured ones plus one per
 * A/AAAA address of NAME (weight 1, not a backup), resolved at start and every {@code refresh}. The lookup runs
 * on the supervisor's DNS thread (it may block); the answer is applied on the supervisor loop. An address that
 * stays keeps its Endpoint object, so its pooled connections and health stay; a new one joins (ramping up under
 * slow_start); one that left is retired: no new requests, its idle pooled connections close, requests in flight
 * finish. A failed lookup keeps the last good list.
 */
public final class DnsDiscovery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsDiscovery.class);

    private final Upstream upstream;
    private final UpstreamConfig.Discovery config;
    private final EventLoop loop;
    private final Executor dnsThread;
    private final Supplier<Resolver> resolver;
    private final ProxyMetrics metrics;
    private final Consumer<Collection<Endpoint>> retire;
    private final Runnable onChange;
    /** The configured endpoints (always first in the upstream's list) and those found by DNS. */
    private final List<Endpoint> statics = new ArrayList<>();
    private final List<Endpoint> discovered = new ArrayList<>();
    private final ScheduledFuture<?> timer;
    private boolean closed;
    private boolean resolving;
    private boolean resolvedOnce;
    private int failuresInARow;

    /**
     * Starts resolving now and every refresh. Endpoints of the upstream that are not in its config were carried
     * over from the version of the upstream before a reload ({@link #carriedOver}); they count as discovered.
     *
     * @param retire   closes the idle pooled connections of endpoints that left
     * @param onChange called on the supervisor loop after the endpoint list changed (health checks follow it)
     */
    public DnsDiscovery(Upstream upstream, EventLoop loop, Executor dnsThread, Supplier<Resolver> resolver,
                        ProxyMetrics metrics, Consumer<Collection<Endpoint>> retire, Runnable onChange) {
        this.upstream = upstream;
        this.config = upstream.config().discovery();
        this.loop = loop;
        this.dnsThread = dnsThread;
        this.resolver = resolver;
        this.metrics = metrics;
        this.retire = retire;
        this.onChange = onChange;
        Set<HostPort> configured = configured(upstream.config());
        for (Endpoint e : upstream.endpoints()) {
            (configured.contains(e.address()) ? statics : discovered).add(e);
        }
        this.timer = loop.scheduleWithFixedDelay(this::resolve, 0, config.refresh().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * What a recompiled upstream (its config changed in a reload) takes over from its previous version: the
     * endpoints DNS had found, when it resolves the same name and port and the address is not configured now.
     * The new version then has them from its first request, with their pooled connections and state.
     */
    public static List<Endpoint> carriedOver(UpstreamConfig next, Upstream previous, List<Endpoint> configuredNow) {
        UpstreamConfig.Discovery d = next.discovery();
        UpstreamConfig.Discovery before = previous == null ? null : previous.config().discovery();
        if (d == null || before == null || !d.host().equals(before.host()) || d.port() != before.port()) {
            return List.of();
        }
        Set<HostPort> configuredBefore = configured(previous.config());
        Set<InetSocketAddress> taken = new HashSet<>();
        configuredNow.forEach(e -> taken.add(e.socketAddress()));
        List<Endpoint> out = new ArrayList<>();
        for (Endpoint e : previous.endpoints()) {
            if (!configuredBefore.contains(e.address()) && !taken.contains(e.socketAddress())) {
                out.add(e);
            }
        }
        return out;
    }

    private static Set<HostPort> configured(UpstreamConfig config) {
        Set<HostPort> s = new HashSet<>();
        config.endpoints().forEach(e -> s.add(e.address()));
        return s;
    }

    private void resolve() {
        if (closed || resolving) {
            return; // a slow lookup is still running: never queue a second one behind it
        }
        resolving = true;
        Resolver r = resolver.get();
        String host = config.host();
        try {
            dnsThread.execute(() -> {
                List<InetAddress> found = null;
                Exception error = null;
                try {
                    found = r.resolve(host);
                } catch (Exception e) {
                    error = e;
                }
                List<InetAddress> f = found;
                Exception err = error;
                try {
                    loop.execute(() -> resolved(f, err));
                } catch (RejectedExecutionException e) {
                    // the supervisor is shutting down: nothing to apply it to
                }
            });
        } catch (RejectedExecutionException e) {
            resolving = false; // shutting down
        }
    }

    private void resolved(List<InetAddress> found, Exception error) {
        resolving = false;
        if (closed) {
            return;
        }
        if (error != null || found == null || found.isEmpty()) {
            failuresInARow++;
            String why = error == null ? "no addresses" : error.toString();
            if (failuresInARow == 1) {
                log.error("upstream {}: DNS discovery of {}:{} failed ({}); keeping the {} endpoint(s) found before. "
                                + "Check the name and the machine's DNS", upstream.name(), config.host(), config.port(),
                        why, discovered.size());
            } else {
                log.debug("upstream {}: DNS discovery of {} failed again ({} in a row): {}", upstream.name(),
                        config.host(), failuresInARow, why);
            }
            return;
        }
        if (failuresInARow > 0) {
            log.info("upstream {}: DNS discovery of {} answers again after {} failure(s)", upstream.name(),
                    config.host(), failuresInARow);
            failuresInARow = 0;
        }
        apply(found);
    }

    private void apply(List<InetAddress> found) {
        Set<InetSocketAddress> wanted = new LinkedHashSet<>();
        for (InetAddress a : found) {
            wanted.add(new InetSocketAddress(a, config.port()));
        }
        statics.forEach(e -> wanted.remove(e.socketAddress()));
        List<Endpoint> kept = new ArrayList<>();
        List<Endpoint> gone = new ArrayList<>();
        for (Endpoint e : discovered) {
            (wanted.remove(e.socketAddress()) ? kept : gone).add(e);
        }
        boolean first = !resolvedOnce && discovered.isEmpty();
        resolvedOnce = true;
        if (gone.isEmpty() && wanted.isEmpty()) {
            return;
        }
        List<Endpoint> next = new ArrayList<>(statics);
        next.addAll(kept);
        List<Endpoint> added = new ArrayList<>();
        for (InetSocketAddress a : wanted) {
            HostPort hp = new HostPort(a.getAddress().getHostAddress(), a.getPort());
            Endpoint e = EndpointFactory.endpoint(upstream.name(), hp, a, 1, false, null, metrics);
            if (!first) {
                e.state().markNew(); // joins a running upstream: slow start applies
            }
            next.add(e);
            added.add(e);
        }
        discovered.clear();
        discovered.addAll(kept);
        discovered.addAll(added);
        upstream.endpoints(next);
        if (!gone.isEmpty()) {
            retire.accept(gone);
        }
        log.info("upstream {}: DNS {} gives {} endpoint(s){}{}", upstream.name(), config.host(), discovered.size(),
                added.isEmpty() ? "" : "; added " + labels(added), gone.isEmpty() ? "" : "; removed " + labels(gone));
        onChange.run();
    }

    private static List<String> labels(List<Endpoint> eps) {
        return eps.stream().map(Endpoint::label).toList();
    }

    /** The endpoints DNS found, for tests and the admin API. On the supervisor loop. */
    public List<Endpoint> discovered() {
        return List.copyOf(discovered);
    }

    @Override
    public void close() {
        closed = true;
        timer.cancel(false);
    }
}
