package dev.portcullis.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/** Small helpers over snakeyaml-engine nodes. */
final class Nodes {
    private Nodes() {}

    static boolean isNull(Node node) {
        return node == null || (node instanceof ScalarNode s && Tag.NULL.equals(s.getTag()));
    }

    /** "a mapping", "a sequence", "a scalar 'x'" for type errors. */
    static String describe(Node node) {
        if (isNull(node)) {
            return "nothing (null)";
        }
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a sequence";
        }
        return "a scalar '" + ((ScalarNode) node).getValue() + "'";
    }

    /** A collection that contains itself through an alias, or null; such trees cannot be read. */
    static Node findRecursive(Node root) {
        return findRecursive(root, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()),
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
    }

    private static Node findRecursive(Node node, java.util.Set<Node> onPath, java.util.Set<Node> done) {
        if (node instanceof ScalarNode || done.contains(node)) {
            return null;
        }
        if (!onPath.add(node)) {
            return node;
        }
        List<Node> children = new ArrayList<>();
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                children.add(t.getKeyNode());
                children.add(t.getValueNode());
            }
        } else if (node instanceof SequenceNode s) {
            children.addAll(s.getValue());
        }
        for (Node child : children) {
            Node r = findRecursive(child, onPath, done);
            if (r != null) {
                return r;
            }
        }
        onPath.remove(node);
        done.add(node);
        return null;
    }

    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String index(String path, int i) {
        return path + "[" + i + "]";
    }

    /** The tree as plain Java values: LinkedHashMap, List, String, Long/BigInteger, Double, Boolean, null. */
    static Object toJava(Node node) {
        if (node instanceof MappingNode m) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                Object key = toJava(t.getKeyNode());
                map.putIfAbsent(String.valueOf(key), toJava(t.getValueNode()));
            }
            return Collections.unmodifiableMap(map);
        }
        if (node instanceof SequenceNode s) {
            List<Object> list = new ArrayList<>();
            for (Node item : s.getValue()) {
                list.add(toJava(item));
            }
            return Collections.unmodifiableList(list);
        }
        if (isNull(node)) {
            return null;
        }
        ScalarNode s = (ScalarNode) node;
        String v = s.getValue();
        try {
            if (Tag.BOOL.equals(s.getTag())) {
                return Boolean.parseBoolean(v.toLowerCase(java.util.Locale.ROOT));
            }
            if (Tag.INT.equals(s.getTag())) {
                BigInteger b = parseInt(v);
                return b.bitLength() < 64 ? (Object) b.longValue() : b;
            }
            if (Tag.FLOAT.equals(s.getTag())) {
                String f = v.toLowerCase(java.util.Locale.ROOT);
                if (f.endsWith(".inf")) {
                    return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                }
                if (f.equals(".nan")) {
                    return Double.NaN;
                }
                return Double.parseDouble(v);
            }
        } catch (NumberFormatException e) {
            return v;
        }
        return v;
    }

    private static BigInteger parseInt(String v) {
        String s = v.replace("_", "");
        boolean neg = s.startsWith("-");
        if (s.startsWith("+") || s.startsWith("-")) {
            s = s.substring(1);
        }
        BigInteger b;
        if (s.startsWith("0x")) {
            b = new BigInteger(s.substring(2), 16);
        } else if (s.startsWith("0o")) {
            b = new BigInteger(s.substring(2), 8);
        } else {
            b = new BigInteger(s);
        }
        return neg ? b.negate() : b;
    }
}
