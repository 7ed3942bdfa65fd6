package dev.portcullis;

import dev.portcullis.runtime.Portcullis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP reloads; SIGTERM and SIGINT drain and exit 0 (a JVM shutdown hook alone would exit 143). Handlers
 * start their own threads: a signal handler must not block.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    static void install(Portcullis p) {
        Signal.handle(new Signal("HUP"), s -> new Thread(() -> p.reload("SIGHUP"), "portcullis-reload").start());
        Signal.handle(new Signal("TERM"), s -> stop(p, "SIGTERM"));
        Signal.handle(new Signal("INT"), s -> stop(p, "SIGINT"));
    }

    private static void stop(Portcullis p, String name) {
        new Thread(() -> {
            log.info("{}: stopping gracefully", name);
            p.drainAndStop();
            System.exit(0);
        }, "portcullis-stop").start();
    }
}
