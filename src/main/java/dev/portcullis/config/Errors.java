package dev.portcullis.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.Node;

/** Collects every {@link ConfigError} of one load; duplicates (same file, line, path, message) count once. */
final class Errors {
    private final String file;
    private final Set<ConfigError> errors = new LinkedHashSet<>();
    /** Lines where ${VAR} substitution failed: later errors there would only repeat that problem. */
    private final Set<Integer> suppressedLines = new HashSet<>();

    Errors(String file) {
        this.file = file;
    }

    String file() {
        return file;
    }

    void at(int line, String path, String message) {
        if (suppressedLines.contains(line)) {
            return;
        }
        errors.add(new ConfigError(file, line, path, message));
    }

    void at(Node node, String path, String message) {
        at(line(node), path, message);
    }

    /** An error that also silences every later one on the same line. */
    void atAndSuppress(int line, String path, String message) {
        errors.add(new ConfigError(file, line, path, message));
        suppressedLines.add(line);
    }

    boolean isEmpty() {
        return errors.isEmpty();
    }

    /** Sorted by line; errors on one line keep the order they were found in. */
    List<ConfigError> sorted() {
        List<ConfigError> list = new ArrayList<>(errors);
        list.sort(Comparator.comparingInt(ConfigError::line));
        return list;
    }

    /** 1-based line of a node, 1 when it has none. */
    static int line(Node node) {
        if (node == null) {
            return 1;
        }
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }
}
