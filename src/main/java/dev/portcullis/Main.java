package dev.portcullis;

import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.config.TransportKind;
import dev.portcullis.demo.DemoBackends;
import dev.portcullis.net.Transport;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.runtime.ConfigSource;
import dev.portcullis.runtime.FileConfigSource;
import dev.portcullis.runtime.Portcullis;
import dev.portcullis.runtime.SnapshotCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: {@code run}, {@code validate}, {@code demo} (the default). */
@Command(name = "portcullis", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Reverse proxy, load balancer and API gateway. Without a command it runs the demo.",
        subcommands = {Main.Run.class, Main.Validate.class, Main.Demo.class})
public final class Main implements Callable<Integer> {

    public static void main(String[] args) {
        sampleLeakDetectionSparsely();
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Netty's leak detector samples one buffer in 128 by default and records a stack trace for each: 3 to 5% of the
     * CPU of a small-request load (measured with HTTP/2). One in 4096 still reports a steady leak within seconds
     * under load, at a thirtieth of the cost. An operator's {@code -Dio.netty.leakDetection.*} wins (the tests run
     * it at paranoid); this must run before Netty's detector class loads.
     */
    static void sampleLeakDetectionSparsely() {
        if (System.getProperty("io.netty.leakDetection.samplingInterval") == null) {
            System.setProperty("io.netty.leakDetection.samplingInterval", "4096");
        }
    }

    @Override
    public Integer call() throws Exception {
        return new Demo().call();
    }

    static Path configPath(Path given) {
        if (given != null) {
            return given;
        }
        Path local = Path.of("portcullis.yaml");
        if (Files.exists(local)) {
            return local;
        }
        throw new CommandLine.ParameterException(new CommandLine(new Run()),
                "no config: pass -c FILE (or put a portcullis.yaml in the current directory)");
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the config in FILE.")
    static final class Run implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "config file (default: ./portcullis.yaml)")
        Path config;

        @Override
        public Integer call() throws Exception {
            return serve(new FileConfigSource(configPath(config)), null);
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check a config: exit 0, or print every error as FILE:LINE: path.to.key: message and exit 1.")
    static final class Validate implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "config file (default: ./portcullis.yaml)")
        Path config;

        @Override
        public Integer call() {
            Path file = configPath(config);
            try {
                PortcullisConfig cfg = ConfigLoader.load(file);
                SnapshotCompiler.check(cfg, new ProxyMetrics());
                System.out.println(file + ": ok (" + cfg.listeners().size() + " listener(s), "
                        + cfg.upstreams().size() + " upstream(s))");
                return 0;
            } catch (ConfigException e) {
                e.errors().forEach(err -> System.err.println(err));
                return 1;
            } catch (IOException e) {
                System.err.println(file + ": cannot read: " + describe(e));
                return 1;
            }
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "Three backends on 127.0.0.1:9001-9003 behind the proxy on 127.0.0.1:8080, admin on 127.0.0.1:9901.")
    static final class Demo implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            String yaml;
            try (InputStream in = Main.class.getResourceAsStream("/demo.yaml")) {
                yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            ConfigSource source = new ConfigSource() {
                @Override
                public PortcullisConfig load() throws ConfigException {
                    return ConfigLoader.parse(yaml, "demo.yaml", System.getenv());
                }

                @Override
                public Path file() {
                    return null;
                }
            };
            DemoBackends backends = DemoBackends.start(Transport.select(TransportKind.AUTO), "127.0.0.1",
                    9001, 9002, 9003);
            return serve(source, () -> {
                System.out.println();
                System.out.println("Portcullis demo");
                System.out.println("  backends : http://127.0.0.1:9001  http://127.0.0.1:9002  http://127.0.0.1:9003");
                System.out.println("  proxy    : http://127.0.0.1:8080  (round robin over the three)");
                System.out.println("  admin    : http://127.0.0.1:9901  (dashboard, /metrics, /api/v1/upstreams)");
                System.out.println("  try      : for i in 1 2 3; do curl -s localhost:8080/; done");
                System.out.println("  stop     : Ctrl-C");
                System.out.println();
            }, backends);
        }
    }

    private static int serve(ConfigSource source, Runnable banner, AutoCloseable... extras) throws Exception {
        Portcullis p;
        try {
            p = Portcullis.start(source);
        } catch (ConfigException e) {
            e.errors().forEach(err -> System.err.println(err));
            System.err.println("refusing to start: fix the errors above");
            closeAll(extras);
            return 1;
        } catch (IllegalStateException e) {
            System.err.println("refusing to start: " + e.getMessage());
            closeAll(extras);
            return 1;
        } catch (IOException e) {
            System.err.println("refusing to start: " + describe(e));
            closeAll(extras);
            return 1;
        }
        Signals.install(p);
        if (banner != null) {
            banner.run();
        }
        p.awaitStop();
        closeAll(extras);
        return 0;
    }

    /** An I/O error as one line; NoSuchFileException and friends carry only the path as their message. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file: " + e.getMessage();
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static void closeAll(AutoCloseable... extras) throws Exception {
        for (AutoCloseable c : extras) {
            c.close();
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"portcullis " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
