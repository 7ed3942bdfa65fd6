package dev.portcullis.runtime;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads when the config file, or a file the config reads (TLS certificates, keys, CA bundles, OCSP responses),
 * changes on disk. Watches the files' directories (editors and certbot replace files by rename; a symlinked file
 * changes with its siblings) and waits for writes to settle for 300 ms before reloading, so a half-written file is
 * not read. The set of watched files is replaced after each load ({@link #watch}).
 */
final class ConfigWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    private static final long SETTLE_MILLIS = 300;

    private final WatchService service;
    private final Thread thread;
    private final Path configFile;
    /** Registered directories; touched by the thread that calls {@link #watch} only (reloads are serialised). */
    private final Map<Path, WatchKey> keys = new HashMap<>();
    /** The files whose change reloads: read by the watcher thread, replaced whole. */
    private volatile Set<Path> files = Set.of();

    private ConfigWatcher(WatchService service, Path configFile, Runnable onChange) {
        this.service = service;
        this.configFile = configFile;
        this.thread = new Thread(() -> loop(onChange), "portcullis-config-watcher");
        this.thread.setDaemon(true);
    }

    /** @param configFile the config file, or null when the config does not come from a file */
    static ConfigWatcher start(Path configFile, Collection<Path> others, Runnable onChange) throws IOException {
        WatchService ws = FileSystems.getDefault().newWatchService();
        Path abs = configFile == null ? null : configFile.toAbsolutePath().normalize();
        ConfigWatcher w = new ConfigWatcher(ws, abs, onChange);
        w.watch(others);
        w.thread.start();
        return w;
    }

    /** Watches the config file and {@code others} from now on (the files of the config just loaded). */
    synchronized void watch(Collection<Path> others) throws IOException {
        Set<Path> next = new LinkedHashSet<>();
        if (configFile != null) {
            next.add(configFile);
        }
        for (Path p : others) {
            next.add(p.toAbsolutePath().normalize());
        }
        Set<Path> dirs = new LinkedHashSet<>();
        for (Path p : next) {
            dirs.add(p.getParent());
        }
        for (Path dir : dirs) {
            if (!keys.containsKey(dir)) {
                keys.put(dir, dir.register(service, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_CREATE));
            }
        }
        keys.entrySet().removeIf(e -> {
            if (!dirs.contains(e.getKey())) {
                e.getValue().cancel();
                return true;
            }
            return false;
        });
        files = Set.copyOf(next);
    }

    private void loop(Runnable onChange) {
        try {
            while (true) {
                WatchKey key = service.take();
                boolean ours = false;
                if (key.watchable() instanceof Path dir) {
                    for (WatchEvent<?> e : key.pollEvents()) {
                        ours |= e.context() instanceof Path name && files.contains(dir.resolve(name));
                    }
                    // A symlinked file (a Kubernetes ConfigMap or Secret volume: FILE -> ..data/FILE) changes when a
                    // sibling link is swapped, and no event names FILE itself: any change beside it may be one to it.
                    for (Path f : files) {
                        ours |= dir.equals(f.getParent()) && Files.isSymbolicLink(f);
                    }
                } else {
                    key.pollEvents();
                }
                key.reset();
                if (!ours) {
                    continue;
                }
                // Let the writer finish: swallow further events until none for SETTLE_MILLIS.
                WatchKey more;
                while ((more = service.poll(SETTLE_MILLIS, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                onChange.run();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("config watcher stopped: {}; reload with SIGHUP or POST /api/v1/reload", e.toString());
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            log.debug("closing config watcher: {}", e.toString());
        }
    }
}
