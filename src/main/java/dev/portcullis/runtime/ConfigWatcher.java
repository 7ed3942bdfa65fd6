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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads when the config file changes on disk. Watches the file's directory (editors replace files by
 * rename; a symlinked file changes with its siblings) and waits for writes to settle for 300 ms before
 * reloading, so a half-written file is not read.
 */
final class ConfigWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    private static final long SETTLE_MILLIS = 300;

    private final WatchService service;
    private final Thread thread;

    private ConfigWatcher(WatchService service, Path file, Runnable onChange) {
        this.service = service;
        this.thread = new Thread(() -> loop(file, onChange), "portcullis-config-watcher");
        this.thread.setDaemon(true);
    }

    static ConfigWatcher start(Path file, Runnable onChange) throws IOException {
        Path abs = file.toAbsolutePath();
        WatchService ws = FileSystems.getDefault().newWatchService();
        abs.getParent().register(ws, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
        ConfigWatcher w = new ConfigWatcher(ws, abs, onChange);
        w.thread.start();
        return w;
    }

    private void loop(Path file, Runnable onChange) {
        Path name = file.getFileName();
        try {
            while (true) {
                WatchKey key = service.take();
                boolean ours = false;
                for (WatchEvent<?> e : key.pollEvents()) {
                    ours |= name.equals(e.context());
                }
                // A symlinked config (a Kubernetes ConfigMap volume: FILE -> ..data/FILE) changes when a sibling
                // link is swapped, and no event names FILE itself: any change beside it may be one to it.
                ours |= Files.isSymbolicLink(file);
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
