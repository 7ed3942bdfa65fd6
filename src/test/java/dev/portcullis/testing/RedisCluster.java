package dev.portcullis.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real three-master Redis Cluster for tests: three {@link RedisServer}s with {@code cluster-enabled}, joined by
 * {@code redis-cli --cluster create}, no replicas. Each stopped by its own PID on close.
 */
public final class RedisCluster implements AutoCloseable {
    private final List<RedisServer> nodes = new ArrayList<>();
    private final Path dir;

    private RedisCluster() throws IOException {
        dir = Files.createTempDirectory("redis-cluster-test-");
    }

    public static RedisCluster start() throws Exception {
        RedisCluster c = new RedisCluster();
        try {
            for (int i = 0; i < 3; i++) {
                c.nodes.add(RedisServer.start(List.of("--cluster-enabled", "yes", "--dir", c.dir.toString(),
                        "--cluster-config-file", "nodes-" + i + ".conf", "--cluster-node-timeout", "5000")));
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (RedisServer n : c.nodes) {
                create.add("127.0.0.1:" + n.port());
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            c.run(create);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!c.ok()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the test cluster did not reach cluster_state:ok");
                }
                Thread.sleep(100);
            }
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    private boolean ok() throws Exception {
        for (RedisServer n : nodes) {
            if (!run(List.of("redis-cli", "-p", Integer.toString(n.port()), "cluster", "info"))
                    .contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** The seed URLs, {@code redis://127.0.0.1:PORT} each. */
    public List<String> urls() {
        return nodes.stream().map(RedisServer::url).toList();
    }

    /** How many keys the whole cluster holds (DBSIZE on each master). */
    public long keys() throws IOException {
        long n = 0;
        for (RedisServer s : nodes) {
            n += Long.parseLong(s.command("DBSIZE").substring(1));
        }
        return n;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // temp files: the OS cleans them up
        }
    }
}
