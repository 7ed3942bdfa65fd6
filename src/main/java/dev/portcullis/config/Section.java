package dev.portcullis.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML mapping being read: typed getters that report every problem to {@link Errors} with line and path and
 * return the default (or null) so reading goes on. A key whose value is YAML null ({@code key:}) counts as absent.
 */
final class Section {
    /** One key of the mapping; {@code prefix} is the path of the mapping it came from (a route's or its listener's defaults). */
    record Entry(String key, Node keyNode, Node value, String prefix) {
        String path() {
            return Nodes.join(prefix, key);
        }
    }

    /** An item of a sequence (or a lone scalar where one-or-many is accepted). */
    record Item(Node node, String path) {}

    final Errors errors;
    private final String path;
    private final Node node;
    private final LinkedHashMap<String, Entry> entries;
    /** The value was not a mapping (already reported): required keys are not reported again. */
    private final boolean bad;
    /** Keys dropped by {@link #keys} as not supported yet. */
    private final java.util.Set<String> unsupportedSeen = new java.util.HashSet<>();

    private Section(Errors errors, String path, Node node, LinkedHashMap<String, Entry> entries, boolean bad) {
        this.errors = errors;
        this.path = path;
        this.node = node;
        this.entries = entries;
        this.bad = bad;
    }

    /** Reads {@code node} as a mapping; null or YAML null gives an empty section, anything else an error. */
    static Section of(Errors errors, Node node, String path, Node parentForLine) {
        LinkedHashMap<String, Entry> map = new LinkedHashMap<>();
        if (Nodes.isNull(node)) {
            return new Section(errors, path, node == null ? parentForLine : node, map, false);
        }
        if (!(node instanceof MappingNode m)) {
            errors.at(node, path, "expected a mapping, found " + Nodes.describe(node));
            return new Section(errors, path, node, map, true);
        }
        for (NodeTuple t : m.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode ks) || Nodes.isNull(k)) {
                errors.at(k, path, "expected a plain key, found " + Nodes.describe(k));
                continue;
            }
            String key = ks.getValue();
            Entry prev = map.get(key);
            if (prev != null) {
                errors.at(k, Nodes.join(path, key), "duplicate key '" + key + "' (first at line " + Errors.line(prev.keyNode()) + ")");
                continue;
            }
            map.put(key, new Entry(key, k, t.getValueNode(), path));
        }
        return new Section(errors, path, node, map, false);
    }

    String path() {
        return path;
    }

    int line() {
        return Errors.line(node);
    }

    boolean isBad() {
        return bad;
    }

    Collection<Entry> entries() {
        return entries.values();
    }

    /**
     * Refuses unknown keys (with a suggestion among {@code known} and {@code unsupported}) and keys that are known
     * but not implemented; both are dropped so nothing reads them.
     */
    void keys(List<String> known, Collection<String> unsupported) {
        List<String> all = new ArrayList<>(known);
        all.addAll(unsupported);
        for (var it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (unsupported.contains(e.key())) {
                errors.at(e.keyNode(), e.path(), "'" + e.key() + "' is not supported in this version yet");
                unsupportedSeen.add(e.key());
                it.remove();
            } else if (!known.contains(e.key())) {
                String hint = DidYouMean.suffix(e.key(), all);
                if (hint.isEmpty()) {
                    hint = "; expected one of: " + String.join(", ", known);
                }
                errors.at(e.keyNode(), e.path(), "unknown key '" + e.key() + "'" + hint);
                it.remove();
            }
        }
    }

    /** Whether {@link #keys} dropped this key as not supported yet. */
    boolean hadUnsupported(String key) {
        return unsupportedSeen.contains(key);
    }

    /** Drops a key with an error at it. */
    void refuse(String key, String message) {
        Entry e = entries.remove(key);
        if (e != null) {
            errors.at(e.keyNode(), e.path(), message);
        }
    }

    /** This section's keys, then those of {@code defaults} it does not set; a key of {@code group} set here hides all of the group in defaults. */
    Section withDefaults(Section defaults, Set<String> group) {
        LinkedHashMap<String, Entry> merged = new LinkedHashMap<>(entries);
        boolean groupSet = entries.keySet().stream().anyMatch(group::contains);
        for (Entry e : defaults.entries()) {
            if (!merged.containsKey(e.key()) && !(groupSet && group.contains(e.key()))) {
                merged.put(e.key(), e);
            }
        }
        return new Section(errors, path, node, merged, bad);
    }

    boolean has(String key) {
        Entry e = entries.get(key);
        return e != null && !Nodes.isNull(e.value());
    }

    /** The value node, null when absent or YAML null. */
    Node node(String key) {
        Entry e = entries.get(key);
        return e == null || Nodes.isNull(e.value()) ? null : e.value();
    }

    String path(String key) {
        Entry e = entries.get(key);
        return e == null ? Nodes.join(path, key) : e.path();
    }

    int line(String key) {
        Entry e = entries.get(key);
        return e == null ? line() : Errors.line(Nodes.isNull(e.value()) ? e.keyNode() : e.value());
    }

    void error(String key, String message) {
        errors.at(line(key), path(key), message);
    }

    /** An error about the section as a whole (at its key's line). */
    void errorHere(String message) {
        if (!bad) {
            errors.at(line(), path, message);
        }
    }

    /** Reports a missing required key, unless this section is already known to be broken. */
    void missing(String key) {
        if (!bad) {
            errors.at(line(), path, "missing required key '" + key + "'");
        }
    }

    /** The text of a scalar value; any other kind is a type error (null returned). */
    String scalar(Node value, String at, String expected) {
        if (value instanceof ScalarNode s && !Nodes.isNull(value)) {
            return s.getValue();
        }
        errors.at(value, at, "expected " + expected + ", found " + Nodes.describe(value));
        return null;
    }

    String string(String key, String def) {
        Node v = node(key);
        if (v == null) {
            return def;
        }
        String s = scalar(v, path(key), "a string");
        return s == null ? def : s;
    }

    String requiredString(String key) {
        if (!has(key)) {
            missing(key);
            return null;
        }
        return string(key, null);
    }

    /** Parses a scalar with {@code parser}; its IllegalArgumentException becomes an error. */
    <T> T parse(String key, T def, String expected, Function<String, T> parser) {
        Node v = node(key);
        if (v == null) {
            return def;
        }
        String s = scalar(v, path(key), expected);
        if (s == null) {
            return def;
        }
        try {
            return parser.apply(s);
        } catch (IllegalArgumentException e) {
            error(key, e.getMessage());
            return def;
        }
    }

    int integer(String key, int def, int min, int max) {
        Integer r = parse(key, def, "a whole number", s -> {
            long n;
            try {
                n = Long.parseLong(s.trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid number '" + s + "'; expected a whole number " + min + ".." + max);
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException("'" + s + "' is out of range; expected " + min + ".." + max);
            }
            return (int) n;
        });
        return r;
    }

    Duration duration(String key, Duration def, boolean zeroAllowed) {
        return parse(key, def, "a duration", s -> {
            Duration d = Values.duration(s);
            if (d.isZero() && !zeroAllowed) {
                throw new IllegalArgumentException("duration '" + s + "' must be above zero");
            }
            return d;
        });
    }

    long size(String key, long def, long max) {
        return parse(key, def, "a size", s -> {
            long n = Values.size(s);
            if (n <= 0 || n > max) {
                throw new IllegalArgumentException("size '" + s + "' is out of range; expected 1.." + max + " bytes");
            }
            return n;
        });
    }

    boolean bool(String key, boolean def) {
        return parse(key, def, "true or false", Values::bool);
    }

    HostPort address(String key, HostPort def, boolean allowAnyPort) {
        return parse(key, def, "an address host:port", s -> Addresses.hostPort(s, allowAnyPort));
    }

    /**
     * A file the config names: a relative path is taken from the config file's directory (as nginx takes them
     * from its prefix). The file must exist and be readable now; null (reported) otherwise.
     */
    java.nio.file.Path file(String key) {
        java.nio.file.Path p = resolvedPath(key, "file");
        if (p == null) {
            return null;
        }
        if (!java.nio.file.Files.isRegularFile(p)) {
            error(key, "file not found: " + p);
            return null;
        }
        if (!java.nio.file.Files.isReadable(p)) {
            error(key, "file not readable by this process: " + p + "; check its permissions");
            return null;
        }
        return p;
    }

    /** The path at {@code key}, a relative one taken from the config file's directory; null (reported if bad). */
    private java.nio.file.Path resolvedPath(String key, String what) {
        String s = string(key, null);
        return s == null ? null : resolve(s, what, message -> error(key, message));
    }

    private java.nio.file.Path resolve(String s, String what, java.util.function.Consumer<String> error) {
        if (s.isBlank()) {
            error.accept("expected a " + what + " path, found an empty string");
            return null;
        }
        java.nio.file.Path p;
        try {
            p = java.nio.file.Path.of(s.trim());
        } catch (java.nio.file.InvalidPathException e) {
            error.accept("invalid " + what + " path '" + s + "': " + e.getReason());
            return null;
        }
        if (!p.isAbsolute()) {
            java.nio.file.Path dir = java.nio.file.Path.of(errors.file()).toAbsolutePath().getParent();
            p = dir == null ? p.toAbsolutePath() : dir.resolve(p);
        }
        return p.normalize();
    }

    /** As {@link #file}, for a path written inside a list item ({@code file:PATH} entries). */
    java.nio.file.Path fileAt(Item item, String path, String what) {
        java.nio.file.Path p = resolve(path, what, message -> errorAt(item, message));
        if (p == null) {
            return null;
        }
        if (!java.nio.file.Files.isRegularFile(p)) {
            errorAt(item, what + " not found: " + p);
            return null;
        }
        if (!java.nio.file.Files.isReadable(p)) {
            errorAt(item, what + " not readable by this process: " + p + "; check its permissions");
            return null;
        }
        return p;
    }

    /** An error at one item of a list. */
    void errorAt(Item item, String message) {
        errors.at(item.node(), item.path(), message);
    }

    /**
     * A directory the process may create: a relative path is taken from the config file's directory, like
     * {@link #file}. It need not exist yet; if something is there, it must be a directory. Null (reported) otherwise.
     */
    java.nio.file.Path directory(String key) {
        java.nio.file.Path p = resolvedPath(key, "directory");
        if (p != null && java.nio.file.Files.exists(p) && !java.nio.file.Files.isDirectory(p)) {
            error(key, "not a directory: " + p);
            return null;
        }
        return p;
    }

    /** A nested mapping; empty when absent. */
    Section section(String key) {
        Entry e = entries.get(key);
        return of(errors, e == null ? null : e.value(), path(key), e == null ? node : e.keyNode());
    }

    /** A sequence's items; a lone scalar is one item when {@code scalarOk}. Empty when absent or wrong. */
    List<Item> items(String key, boolean scalarOk) {
        Node v = node(key);
        List<Item> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v instanceof SequenceNode seq) {
            int i = 0;
            for (Node item : seq.getValue()) {
                out.add(new Item(item, Nodes.index(path(key), i++)));
            }
        } else if (scalarOk && v instanceof ScalarNode) {
            out.add(new Item(v, path(key)));
        } else {
            error(key, "expected a sequence" + (scalarOk ? " or a string" : "") + ", found " + Nodes.describe(v));
        }
        return out;
    }
}
