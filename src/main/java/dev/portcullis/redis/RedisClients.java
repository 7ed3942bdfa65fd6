package dev.portcullis.redis;

import dev.portcullis.config.RedisConfig;
import dev.portcullis.observe.RedisStats;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.protocol.ConnectionIntent;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's one Redis client for one {@link RedisConfig}: a lettuce {@link RedisClient} (or
 * {@link RedisClusterClient}) with one command connection and one pub/sub connection, shared by every feature that
 * keeps state in Redis (the cache's shared tier, purge broadcast; later rate limits). A reload whose {@code redis}
 * is unchanged keeps it; a changed one builds a new one and closes this one.
 *
 * <p>Never in the way of a request: only lettuce's async API is used; the first connection is made in the
 * background (and retried, with back-off, until it succeeds or the client is closed); while disconnected, commands
 * are refused at once ({@code REJECT_COMMANDS}) rather than queued, and each command times out after
 * {@code redis.timeout}. Callers treat a failure as "Redis has nothing" and count it ({@link #failed}). Lettuce
 * reconnects a lost connection itself and subscribes its channels again.
 */
public final class RedisClients implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisClients.class);
    /** Keys are text (namespaced names), values bytes (encoded objects, messages). */
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Between failed first-connection attempts: from 100 ms, doubling, at most this. */
    static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(2);
    /** Commands waiting for their reply, at most: past it lettuce refuses new ones (memory stays bounded). */
    static final int REQUEST_QUEUE = 65_536;

    static {
        // lettuce would pick io_uring when both it and epoll load (and warn about the choice each time): a Redis
        // client gains nothing from it, so it keeps to epoll, quietly. An operator's own setting wins.
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false");
        }
    }

    private final RedisConfig config;
    private final RedisStats stats;
    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final RateLimitedLog warnings = new RateLimitedLog(log, Duration.ofSeconds(30));
    private final Map<String, List<Consumer<byte[]>>> handlers = new ConcurrentHashMap<>();
    private volatile StatefulConnection<String, byte[]> connection;
    private volatile RedisClusterAsyncCommands<String, byte[]> commands;
    private volatile StatefulRedisPubSubConnection<String, byte[]> pubSub;
    private volatile boolean closed;

    private RedisClients(RedisConfig config, RedisStats stats) {
        this.config = config;
        this.stats = stats;
        // lettuce's own small thread pools: its IO never shares (or blocks) the proxy's event loops
        this.resources = ClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), MAX_RETRY_DELAY, 2, TimeUnit.MILLISECONDS))
                .build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(config.timeout());
        if (config.cluster()) {
            RedisClusterClient c = RedisClusterClient.create(resources, config.urls().stream().map(this::uri).toList());
            c.setOptions(ClusterClientOptions.builder()
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .requestQueueSize(REQUEST_QUEUE)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofMinutes(1))
                            .build())
                    .build());
            this.client = c;
        } else {
            RedisClient c = RedisClient.create(resources, uri(config.urls().get(0)));
            c.setOptions(ClientOptions.builder()
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .requestQueueSize(REQUEST_QUEUE)
                    .build());
            this.client = c;
        }
    }

    /**
     * Builds the client and starts connecting in the background; returns at once. Until connected,
     * {@link #commands()} is null and publishes fail: features act as if Redis had nothing.
     */
    public static RedisClients open(RedisConfig config, RedisStats stats) {
        RedisClients r = new RedisClients(config, stats);
        stats.bind(r, r::isConnected);
        log.info("redis: connecting to {}{} (command timeout {} ms)", config.cluster() ? "the cluster of " : "",
                String.join(", ", config.redactedUrls()), config.timeout().toMillis());
        r.connect(Duration.ofMillis(100));
        return r;
    }

    private RedisURI uri(String url) {
        RedisURI u = RedisURI.create(url);
        // the URI's timeout bounds the connection handshake (HELLO, CLIENT SETNAME): at least the connect timeout, so
        // a cold start or a short redis.timeout does not fail it; commands keep redis.timeout (TimeoutOptions)
        u.setTimeout(config.timeout().compareTo(CONNECT_TIMEOUT) > 0 ? config.timeout() : CONNECT_TIMEOUT);
        u.setClientName("portcullis");
        return u;
    }

    public RedisConfig config() {
        return config;
    }

    public RedisStats stats() {
        return stats;
    }

    /** The async commands (standalone or cluster: the same interface), or null before the first connection. */
    public RedisClusterAsyncCommands<String, byte[]> commands() {
        return commands;
    }

    /** Whether the command connection is open now (lettuce reconnects it when it is not). */
    public boolean isConnected() {
        StatefulConnection<String, byte[]> c = connection;
        return c != null && c.isOpen();
    }

    /**
     * A command failed: counted under {@code op}, and a warning at most every 30 s saying what the operator should
     * do. The caller goes on as if Redis had nothing.
     */
    public void failed(String op, Throwable cause) {
        stats.error(op);
        if (!closed) {
            warnings.warn("redis {} failed ({}): the shared state is skipped (the cache acts as a miss) until {} "
                    + "answers again; check that it runs and is reachable", op, describe(cause),
                    String.join(", ", config.redactedUrls()));
        }
    }

    /** The failure and, when it wraps one, its root cause: what the operator needs to see. */
    static String describe(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        Throwable root = c;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return text(c) + (root == c ? "" : "; caused by " + text(root));
    }

    private static String text(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /**
     * Publishes {@code message} on {@code channel} (every instance subscribed gets it, this one included).
     *
     * @return the number of subscribers that got it; fails when Redis is not reachable
     */
    public CompletableFuture<Long> publish(String channel, byte[] message) {
        RedisClusterAsyncCommands<String, byte[]> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected to Redis yet"));
        }
        try {
            return c.publish(channel, message).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Calls {@code handler} with every message published on {@code channel}, from the moment the subscription is
     * made (now, or once connected) until this client is closed; lettuce subscribes again after a reconnect.
     * Messages published while disconnected are lost (Redis pub/sub keeps nothing). The handler runs on lettuce's
     * thread: it must not block, and should hand longer work off.
     */
    public void subscribe(String channel, Consumer<byte[]> handler) {
        handlers.computeIfAbsent(channel, k -> new CopyOnWriteArrayList<>()).add(handler);
        StatefulRedisPubSubConnection<String, byte[]> p = pubSub;
        if (p != null) {
            subscribeOn(p, channel);
        }
    }

    private void subscribeOn(StatefulRedisPubSubConnection<String, byte[]> p, String channel) {
        p.async().subscribe(channel).whenComplete((ok, err) -> {
            if (err != null) {
                failed("subscribe", err); // lettuce's reconnect subscribes every channel again
            }
        });
    }

    // ---- connecting ----

    @SuppressWarnings("unchecked")
    private void connect(Duration retryDelay) {
        if (closed) {
            return;
        }
        CompletionStage<? extends StatefulConnection<String, byte[]>> main;
        CompletionStage<? extends StatefulRedisPubSubConnection<String, byte[]>> sub;
        if (client instanceof RedisClusterClient c) {
            // lettuce's async cluster connect needs the topology loaded first (its sync connect would block)
            main = commands == null ? c.refreshPartitionsAsync().thenCompose(v -> c.connectAsync(CODEC))
                    .thenCompose(conn -> warmUp(c, conn)) : CompletableFuture.completedFuture(null);
            // the pub/sub connection needs the topology the command connection loads first
            sub = pubSub == null ? main.thenCompose(m -> c.connectPubSubAsync(CODEC))
                    : CompletableFuture.completedFuture(null);
        } else {
            RedisClient c = (RedisClient) client;
            RedisURI uri = uri(config.urls().get(0));
            main = commands == null ? c.connectAsync(CODEC, uri) : CompletableFuture.completedFuture(null);
            sub = pubSub == null ? c.connectPubSubAsync(CODEC, uri) : CompletableFuture.completedFuture(null);
        }
        main.toCompletableFuture().thenCombine(sub.toCompletableFuture(), (m, s) -> {
            adopt(m, s);
            return null;
        }).exceptionally(err -> {
            // one of the two may have connected: adopt it; the other is tried again
            main.toCompletableFuture().thenAccept(m -> adopt(m, null));
            sub.toCompletableFuture().thenAccept(s -> adopt(null, s));
            failed("connect", err);
            retry(retryDelay);
            return null;
        });
    }

    /**
     * Opens the connection to every master before the client is used: lettuce opens node connections on first use,
     * and with {@code REJECT_COMMANDS} the commands that come while one is being opened would be refused. Later
     * nodes (a failover, a resharding) are opened on first use: their first commands may miss.
     */
    private static CompletableFuture<StatefulRedisClusterConnection<String, byte[]>> warmUp(
            RedisClusterClient c, StatefulRedisClusterConnection<String, byte[]> conn) {
        List<CompletableFuture<?>> nodes = new java.util.ArrayList<>();
        for (RedisClusterNode n : c.getPartitions()) {
            if (!n.getSlots().isEmpty()) { // a master serving slots; commands go to it by host and port
                nodes.add(conn.getConnectionAsync(n.getUri().getHost(), n.getUri().getPort(), ConnectionIntent.WRITE)
                        .exceptionally(err -> null)); // a node down now: its slots miss until it is back
            }
        }
        return CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new)).thenApply(v -> conn);
    }

    private synchronized void adopt(StatefulConnection<String, byte[]> main,
                                    StatefulRedisPubSubConnection<String, byte[]> sub) {
        if (closed) {
            if (main != null) {
                main.closeAsync();
            }
            if (sub != null) {
                sub.closeAsync();
            }
            return;
        }
        if (main != null && commands == null) {
            connection = main;
            commands = main instanceof StatefulRedisClusterConnection<String, byte[]> cc ? cc.async()
                    : ((StatefulRedisConnection<String, byte[]>) main).async();
            log.info("redis: connected to {}", String.join(", ", config.redactedUrls()));
        }
        if (sub != null && pubSub == null) {
            pubSub = sub;
            sub.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, byte[] message) {
                    deliver(channel, message);
                }
            });
            handlers.keySet().forEach(ch -> subscribeOn(sub, ch));
        }
    }

    private void deliver(String channel, byte[] message) {
        List<Consumer<byte[]>> hs = handlers.get(channel);
        if (hs == null) {
            return;
        }
        for (Consumer<byte[]> h : hs) {
            try {
                h.accept(message);
            } catch (RuntimeException e) {
                log.warn("redis: the handler of channel {} failed: {}", channel, e.toString(), e);
            }
        }
    }

    private void retry(Duration delay) {
        if (closed) {
            return;
        }
        Duration next = delay.multipliedBy(2).compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY : delay.multipliedBy(2);
        try {
            resources.eventExecutorGroup().schedule(() -> connect(next), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    /** Closes the connections and the client in the background (never blocks the caller, an event loop maybe). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stats.unbind(this);
        StatefulConnection<String, byte[]> c = connection;
        StatefulRedisPubSubConnection<String, byte[]> p = pubSub;
        CompletableFuture<Void> conns = CompletableFuture.allOf(
                c == null ? CompletableFuture.completedFuture(null) : c.closeAsync(),
                p == null ? CompletableFuture.completedFuture(null) : p.closeAsync());
        conns.handle((ok, err) -> client.shutdownAsync(0, 2, TimeUnit.SECONDS))
                .thenCompose(f -> f)
                .handle((ok, err) -> resources.shutdown(0, 2, TimeUnit.SECONDS));
        log.info("redis: closed the client of {}", String.join(", ", config.redactedUrls()));
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "RedisClients(" + config + ")";
    }
}
