package dev.portcullis.runtime;

import dev.portcullis.admin.AdminServer;
import dev.portcullis.admin.ReloadOutcome;
import dev.portcullis.cache.shared.PurgeBroadcast;
import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ListenerConfig;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.http.ListenerContext;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.net.Transport;
import dev.portcullis.observe.AccessLog;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.UpstreamSupervisor;
import dev.portcullis.upstream.pool.PoolRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running process: event loops, listeners, admin server, the current snapshot, reload and drain.
 * Reloads are serialised; a request uses the snapshot it started with.
 */
public final class Portcullis {
    private static final Logger log = LoggerFactory.getLogger(Portcullis.class);

    private final ConfigSource source;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final Transport transport;
    private final EventLoopGroup workers;
    private final PoolRegistry pools;
    private final UpstreamSupervisor supervisor;
    private final ListenerBinder binder;
    private final Map<String, BoundListener> bound = new LinkedHashMap<>();
    /** Listeners closed by a reload whose connections may still be finishing; shutdown waits for them too. */
    private final List<ListenerContext> retiredListeners = new CopyOnWriteArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Snapshot snapshot;
    /** Purges through the admin API reach the other instances sharing the config's redis, and theirs reach us. */
    private final PurgeBroadcast purges = new PurgeBroadcast(() -> snapshot.caches());
    private volatile AccessLog accessLog;
    private volatile boolean ready;
    private volatile boolean draining;
    private AdminServer admin;
    private ConfigWatcher watcher;

    private Portcullis(ConfigSource source, PortcullisConfig config) {
        this.source = source;
        this.transport = Transport.select(config.transport());
        int threads = config.workers() > 0 ? config.workers() : Runtime.getRuntime().availableProcessors();
        this.workers = transport.newGroup(threads, "portcullis-worker");
        this.pools = new PoolRegistry(workers, transport);
        this.supervisor = new UpstreamSupervisor(transport, metrics, pools::retire);
        this.binder = new ListenerBinder(transport, workers);
        if (transport.fallbackReason() == null) {
            log.info("transport: native {}, {} worker event loop(s)", transport.name(), threads);
        } else {
            log.info("transport: NIO, {} worker event loop(s) (native transport not in use: {})", threads,
                    transport.fallbackReason());
        }
    }

    /** Loads, compiles and binds everything; on any failure nothing stays open. */
    public static Portcullis start(ConfigSource source) throws ConfigException, IOException {
        PortcullisConfig config = source.load();
        Portcullis p = new Portcullis(source, config);
        try {
            p.startWith(config);
        } catch (ConfigException | IOException | RuntimeException e) {
            p.shutdownNow();
            throw e;
        }
        return p;
    }

    private void startWith(PortcullisConfig config) throws ConfigException, IOException {
        Snapshot s = SnapshotCompiler.compile(config, null, metrics, true);
        supervisor.adopt(s.upstreams().values());
        accessLog = AccessLog.open(config.accessLog(), metrics);
        for (ListenerConfig l : config.listeners()) {
            ListenerRuntime rt = s.listeners().get(l.name());
            ListenerContext ctx = new ListenerContext(rt, accessLog, metrics.listener(l.name()), pools);
            BoundListener b = binder.bind(l.bind(), ctx);
            bound.put(l.name(), b);
            logBound(l.name(), b, rt);
        }
        snapshot = s;
        if (s.redis() != null) {
            purges.listen(s.redis());
        }
        supervisor.activate(s.upstreams().values());
        admin = new AdminServer(config.admin(), new AdminBridge(this), transport);
        admin.start();
        log.info("admin API on http://{}", hostPort(admin.boundAddress()));
        watchFiles(config);
        ready = true;
    }

    private static void logBound(String name, BoundListener b, ListenerRuntime rt) {
        if (rt.config().protocol() == ListenerConfig.Protocol.SOCKS5) {
            log.info("listener {}: socks5 on {}", name, b.localAddress());
        } else if (rt.tls() != null) {
            log.info("listener {}: https on {} ({})", name, b.localAddress(), rt.tls().describe());
        } else {
            log.info("listener {}: http on {}", name, b.localAddress());
        }
    }

    /**
     * Watches the config file and the files it names (TLS certificates, keys, CAs): a change reloads, so renewed
     * certificates are served to new connections without a restart.
     */
    private synchronized void watchFiles(PortcullisConfig config) throws IOException {
        List<java.nio.file.Path> files = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            if (l.tls() != null) {
                files.addAll(l.tls().files());
            }
        }
        if (watcher != null) {
            watcher.watch(files);
        } else if (source.file() != null || !files.isEmpty()) {
            watcher = ConfigWatcher.start(source.file(), files, () -> reload("file change"));
        }
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Loads the config again and swaps it in, or keeps the running one and returns why not. */
    public synchronized ReloadOutcome reload(String trigger) {
        if (draining) {
            return new ReloadOutcome.Refused(List.of("shutting down"));
        }
        PortcullisConfig next;
        Snapshot compiled = null;
        try {
            next = source.load();
            compiled = SnapshotCompiler.compile(next, snapshot, metrics, true);
            supervisor.adopt(compiled.upstreams().values());
        } catch (ConfigException e) {
            return refused(trigger, e.errors().stream().map(Object::toString).toList());
        } catch (IOException | RuntimeException e) {
            dropZones(compiled);
            return refused(trigger, List.of(String.valueOf(e.getMessage())));
        }
        Snapshot s = compiled;
        PortcullisConfig old = snapshot.config();
        AccessLog newLog = accessLog;
        if (!next.accessLog().equals(old.accessLog())) {
            try {
                newLog = AccessLog.open(next.accessLog(), metrics);
            } catch (IOException e) {
                dropZones(s);
                return refused(trigger, List.of("access_log: cannot open " + next.accessLog().path() + ": "
                        + e.getMessage()));
            }
        }
        // Bind what is new first, so a bind failure leaves the running config untouched.
        Map<String, BoundListener> opened = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            BoundListener b = bound.get(l.name());
            if (b == null || !b.bind().equals(l.bind())) {
                ListenerRuntime rt = s.listeners().get(l.name());
                try {
                    ListenerContext ctx = new ListenerContext(rt, newLog, metrics.listener(l.name()), pools);
                    opened.put(l.name(), binder.bind(l.bind(), ctx));
                } catch (IllegalStateException e) {
                    opened.values().forEach(o -> o.serverChannel().close());
                    if (newLog != accessLog) {
                        newLog.close();
                    }
                    dropZones(s);
                    return refused(trigger, List.of(e.getMessage()));
                }
            }
        }
        List<BoundListener> retired = new ArrayList<>();
        Map<String, BoundListener> nextBound = new LinkedHashMap<>();
        for (ListenerConfig l : next.listeners()) {
            BoundListener b = opened.get(l.name());
            if (b == null) {
                b = bound.get(l.name());
                b.context().update(s.listeners().get(l.name()), newLog);
            } else if (bound.containsKey(l.name())) {
                retired.add(bound.get(l.name()));
            }
            nextBound.put(l.name(), b);
        }
        bound.forEach((name, b) -> {
            if (!nextBound.containsKey(name)) {
                retired.add(b);
            }
        });
        bound.clear();
        bound.putAll(nextBound);
        retiredListeners.removeIf(c -> c.openConnections() == 0);
        for (BoundListener b : retired) {
            b.serverChannel().close();
            b.context().startDrain();
            retiredListeners.add(b.context());
            log.info("listener {}: closed {} (its connections finish their current request)",
                    b.context().name(), b.bind());
        }
        opened.forEach((name, b) -> logBound(name, b, s.listeners().get(name)));
        AccessLog oldLog = accessLog;
        accessLog = newLog;
        Snapshot previous = snapshot;
        snapshot = s;
        if (s.redis() != null && s.redis() != previous.redis()) {
            purges.listen(s.redis());
        }
        supervisor.activate(s.upstreams().values());
        retireReplacedUpstreams(previous, s);
        previous.closeZonesNotIn(s); // readers in flight keep their bodies; the memory goes as they finish
        if (oldLog != newLog) {
            // Requests in flight may still log to the old one for a moment.
            // (closing joins its writer thread: never on an event loop)
            CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(oldLog::close);
        }
        warnRestartOnly(old, next);
        try {
            watchFiles(next);
        } catch (IOException e) {
            log.warn("cannot watch the files of the new config for changes: {}; reload by hand after changing them",
                    e.toString());
        }
        metrics.reload(true);
        String summary = "config reloaded (" + trigger + "): " + next.listeners().size() + " listener(s), "
                + next.upstreams().size() + " upstream(s)";
        log.info(summary);
        return new ReloadOutcome.Applied(summary);
    }

    /**
     * Upstreams that the new snapshot replaced or dropped: their endpoints leave the pools now (idle
     * connections closed) rather than after keepalive.idle_timeout; connections in use close when their
     * request ends.
     */
    private void retireReplacedUpstreams(Snapshot previous, Snapshot next) {
        java.util.Set<Endpoint> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        next.upstreams().values().forEach(u -> kept.addAll(u.endpoints()));
        List<Endpoint> gone = new ArrayList<>();
        previous.upstreams().forEach((name, u) -> {
            if (next.upstreams().get(name) != u) {
                u.endpoints().stream().filter(e -> !kept.contains(e)).forEach(gone::add);
            }
        });
        if (!gone.isEmpty()) {
            pools.retire(gone);
        }
    }

    /** A reload compiled {@code s} but was refused: its new zones go, and the running ones report sizes again. */
    private void dropZones(Snapshot s) {
        if (s != null) {
            s.closeZonesNotIn(snapshot);
            snapshot.caches().values().forEach(z -> z.stats().bind(z, z::objects, z::bytes));
        }
    }

    private ReloadOutcome refused(String trigger, List<String> errors) {
        metrics.reload(false);
        log.error("config reload ({}) refused; the running config stays in force. Fix these and reload again:\n  {}",
                trigger, String.join("\n  ", errors));
        return new ReloadOutcome.Refused(errors);
    }

    private static void warnRestartOnly(PortcullisConfig old, PortcullisConfig next) {
        if (!Objects.equals(old.admin(), next.admin())) {
            log.warn("admin settings changed; they take effect on restart");
        }
        if (old.workers() != next.workers() || old.transport() != next.transport()) {
            log.warn("workers/transport changed; they take effect on restart");
        }
    }

    /**
     * Graceful stop: refuse new connections, report not ready, let requests in flight finish (up to
     * shutdown_timeout), then close everything.
     */
    public void drainAndStop() {
        boolean alreadyDraining;
        synchronized (this) {
            alreadyDraining = draining;
            draining = true;
        }
        if (alreadyDraining) {
            // Another caller (a second SIGTERM, SIGINT after SIGTERM) drains already: wait until it is done, so
            // this caller's System.exit(0) does not cut the requests in flight short.
            awaitStopUninterruptibly();
            return;
        }
        Duration timeout = snapshot.config().shutdownTimeout();
        log.info("draining: no new connections; waiting up to {} ms for requests in flight", timeout.toMillis());
        if (watcher != null) {
            watcher.close();
        }
        for (BoundListener b : bound.values()) {
            b.serverChannel().close().awaitUninterruptibly();
            b.context().startDrain();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (openConnections() > 0 && System.nanoTime() < deadline) {
            sleep(20);
        }
        int left = openConnections();
        if (left > 0) {
            log.warn("shutdown_timeout reached; closing {} connection(s) still open", left);
        }
        shutdownNow();
        log.info("stopped");
    }

    private int openConnections() {
        return bound.values().stream().mapToInt(b -> b.context().openConnections()).sum()
                + retiredListeners.stream().mapToInt(ListenerContext::openConnections).sum();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdownNow() {
        ready = false;
        for (BoundListener b : bound.values()) {
            b.serverChannel().close();
            b.context().connections().close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        for (ListenerContext c : retiredListeners) {
            c.connections().close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        pools.closeAll();
        supervisor.close();
        if (snapshot != null) {
            snapshot.closeZonesNotIn(null);
        }
        if (admin != null) {
            admin.stop();
        }
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (accessLog != null) {
            accessLog.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        stopped.countDown();
    }

    private void awaitStopUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                stopped.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    // ---- views for the admin API and tests ----

    public boolean ready() {
        return ready && !draining;
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    /** How purges reach the other instances (tests read its instance id). */
    public PurgeBroadcast purges() {
        return purges;
    }

    /** The bound address of a listener (tests bind port 0). */
    public InetSocketAddress listenerAddress(String name) {
        BoundListener b = bound.get(name);
        return b == null ? null : b.localAddress();
    }

    public InetSocketAddress adminAddress() {
        return admin.boundAddress();
    }

    /** What watches the upstreams (health checks, DNS discovery); tests put their own DNS resolver in. */
    public UpstreamSupervisor supervisor() {
        return supervisor;
    }
}
