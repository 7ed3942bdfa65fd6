package dev.portcullis.config;

import dev.portcullis.template.Template;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Loads and validates a config file: env substitution, YAML, types, defaults, cross references. Every error is
 * collected and reported at once in a {@link ConfigException}, each as {@code FILE:LINE: path.to.key: message}.
 */
public final class ConfigLoader {
    static final List<String> KEYS = List.of(
            "workers", "transport", "shutdown_timeout", "admin", "access_log", "listeners", "upstreams", "caches",
            "redis", "consumers");
    static final List<String> UNSUPPORTED = List.of();
    public static final HostPort DEFAULT_ADMIN_BIND = new HostPort("127.0.0.1", 9901);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    private ConfigLoader() {}

    /** Reads the file (UTF-8) and parses it with the process environment. */
    public static PortcullisConfig load(Path file) throws ConfigException, IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        PortcullisConfig c = parse(text, file.toString(), System.getenv());
        return new PortcullisConfig(file, c.workers(), c.transport(), c.shutdownTimeout(), c.admin(), c.accessLog(),
                c.listeners(), c.upstreams(), c.caches(), c.redis(), c.consumers(), c.raw());
    }

    /**
     * @param fileName used in error messages only
     * @param env      the variables for {@code ${VAR}} substitution
     * @return the config, with {@code source} null
     */
    public static PortcullisConfig parse(String yamlText, String fileName, Map<String, String> env) throws ConfigException {
        Errors errors = new Errors(fileName);
        String text = Env.substitute(yamlText, env, errors);
        Node root;
        try {
            Optional<Node> node = new Compose(LoadSettings.builder().setLabel(fileName).build()).composeString(text);
            if (node.isEmpty() || Nodes.isNull(node.get())) {
                errors.at(1, "", "the config is empty; it needs at least 'listeners'");
                throw new ConfigException(errors.sorted());
            }
            root = node.get();
            Node recursive = Nodes.findRecursive(root);
            if (recursive != null) {
                errors.at(recursive, "", "invalid YAML: an anchor may not contain an alias to itself");
                throw new ConfigException(errors.sorted());
            }
        } catch (YamlEngineException e) {
            errors.at(yamlLine(e), "", "invalid YAML: " + yamlMessage(e));
            throw new ConfigException(errors.sorted());
        }
        PortcullisConfig config = read(root, errors);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors.sorted());
        }
        return config;
    }

    @SuppressWarnings("unchecked")
    private static PortcullisConfig read(Node root, Errors errors) {
        Section top = Section.of(errors, root, "", root);
        if (top.isBad()) {
            return null;
        }
        top.keys(KEYS, UNSUPPORTED);
        Semantics semantics = new Semantics(errors);

        int workers = top.parse("workers", 0, "auto or a number", s -> {
            if (s.trim().equalsIgnoreCase("auto")) {
                return 0;
            }
            if (s.trim().matches("\\d{1,4}") && Integer.parseInt(s.trim()) >= 1 && Integer.parseInt(s.trim()) <= 1024) {
                return Integer.parseInt(s.trim());
            }
            throw new IllegalArgumentException("invalid workers '" + s + "'; expected auto or a number 1..1024");
        });
        TransportKind transport = top.parse("transport", TransportKind.AUTO, "a transport", s -> {
            try {
                return TransportKind.valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid transport '" + s + "'; expected auto, epoll, io_uring or nio");
            }
        });
        Duration shutdown = top.duration("shutdown_timeout", DEFAULT_SHUTDOWN_TIMEOUT, true);

        Section a = top.section("admin");
        a.keys(List.of("bind", "token"), List.of());
        HostPort adminBind = a.address("bind", DEFAULT_ADMIN_BIND, true);
        semantics.adminBind(adminBind, a.has("bind") ? a.line("bind") : 0, a.path("bind"));
        AdminConfig admin = new AdminConfig(adminBind, a.string("token", ""));

        AccessLogConfig accessLog = accessLog(top.section("access_log"));

        List<ListenerConfig> listeners = new ArrayList<>();
        ListenerReader lr = new ListenerReader(semantics);
        List<Section.Item> items = top.items("listeners", false);
        if (!top.has("listeners")) {
            top.missing("listeners");
        } else if (items.isEmpty() && top.node("listeners") instanceof SequenceNode) {
            top.error("listeners", "at least one listener is needed");
        }
        for (int i = 0; i < items.size(); i++) {
            Section.Item item = items.get(i);
            listeners.add(lr.read(Section.of(errors, item.node(), item.path(), item.node()), i));
        }

        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        Section ups = top.section("upstreams");
        for (Section.Entry e : ups.entries()) {
            if (!Values.isName(e.key())) {
                errors.at(e.keyNode(), e.path(), "invalid upstream name '" + e.key() + "'; use letters, digits, '_', '.' and '-'");
            }
            upstreams.put(e.key(), UpstreamReader.read(e.key(), Section.of(errors, e.value(), e.path(), e.keyNode())));
        }
        semantics.check(upstreams.keySet());
        RedisConfig redis = RedisReader.read(top);
        Map<String, CacheZoneConfig> caches = CacheReader.zones(top.section("caches"), errors,
                top.has("redis"));
        semantics.checkCaches(caches.keySet());
        List<ConsumerConfig> consumers = ConsumersReader.read(top);
        semantics.checkConsumers(consumers);
        semantics.checkRedisStores(top.has("redis"));
        if (!errors.isEmpty()) {
            return null;
        }
        Map<String, Object> raw = (Map<String, Object>) Nodes.toJava(root);
        return new PortcullisConfig(null, workers, transport, shutdown, admin, accessLog, List.copyOf(listeners),
                Collections.unmodifiableMap(upstreams), caches, redis, consumers, raw);
    }

    private static AccessLogConfig accessLog(Section s) {
        s.keys(List.of("path", "format"), List.of());
        String path = "stdout";
        Node p = s.node("path");
        if (p != null) {
            String text = s.scalar(p, s.path("path"), "stdout, stderr, off or a file path");
            if (text != null) {
                Boolean b = p instanceof org.snakeyaml.engine.v2.nodes.ScalarNode sn && sn.isPlain() ? Values.boolOrNull(text) : null;
                if (Boolean.FALSE.equals(b)) {
                    path = "off"; // YAML 1.1 reads a bare off/no/false as a boolean
                } else if (Boolean.TRUE.equals(b) || text.isBlank()) {
                    s.error("path", "invalid access log path '" + text + "'; expected stdout, stderr, off or a file path");
                } else {
                    path = text;
                }
            }
        }
        AccessLogConfig.LogFormat format = s.parse("format", new AccessLogConfig.LogFormat.Json(), "json, combined or a template", t -> {
            if (t.equals("json")) {
                return new AccessLogConfig.LogFormat.Json();
            }
            if (t.equals("combined")) {
                return new AccessLogConfig.LogFormat.Combined();
            }
            if (t.trim().matches("[A-Za-z_]+")) {
                throw new IllegalArgumentException("unknown format '" + t + "'"
                        + DidYouMean.suffix(t.trim(), List.of("json", "combined"))
                        + " (expected json, combined or a template such as '{client.ip} \"{request.line}\" {response.status}')");
            }
            Template.compile(t);
            return new AccessLogConfig.LogFormat.Template(t);
        });
        return new AccessLogConfig(path, format);
    }

    private static int yamlLine(YamlEngineException e) {
        if (e instanceof MarkedYamlEngineException m) {
            return m.getProblemMark().or(m::getContextMark).map(mark -> mark.getLine() + 1).orElse(1);
        }
        return 1;
    }

    private static String yamlMessage(YamlEngineException e) {
        if (e instanceof MarkedYamlEngineException m) {
            String problem = m.getProblem() == null ? "" : m.getProblem();
            String context = m.getContext();
            if (context != null && !context.isEmpty() && m.getContextMark().isPresent() && !problem.isEmpty()) {
                return problem + " (" + context + " at line " + (m.getContextMark().get().getLine() + 1) + ")";
            }
            return problem.isEmpty() ? String.valueOf(context) : problem;
        }
        return e.getMessage();
    }
}
