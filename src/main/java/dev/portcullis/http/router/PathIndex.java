package dev.portcullis.http.router;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routes of one host bucket, indexed by path: exact paths in a hash map, prefixes in a character trie,
 * and everything else (regex paths, no path condition) in one list. Each list holds route indices in
 * ascending (config) order, so "first match wins" is the smallest index whose predicates pass.
 */
final class PathIndex {
    private final Map<String, int[]> exact;
    private final TrieNode root;
    private final int[] others;

    private PathIndex(Map<String, int[]> exact, TrieNode root, int[] others) {
        this.exact = exact;
        this.root = root;
        this.others = others;
    }

    interface Candidate {
        /** @return true when the route at this index matches the request */
        boolean test(int index);
    }

    /** @return the smallest matching route index, or -1 */
    int match(String path, Candidate candidate) {
        int best = Integer.MAX_VALUE;
        int[] exactHits = exact.get(path);
        if (exactHits != null) {
            best = firstMatch(exactHits, best, candidate);
        }
        TrieNode node = root;
        for (int i = 0, n = path.length(); i < n && node != null; i++) {
            node = node.child(path.charAt(i));
            if (node != null && node.routes != null) {
                best = firstMatch(node.routes, best, candidate);
            }
        }
        best = firstMatch(others, best, candidate);
        return best == Integer.MAX_VALUE ? -1 : best;
    }

    private static int firstMatch(int[] indices, int best, Candidate candidate) {
        for (int index : indices) {
            if (index >= best) {
                return best;
            }
            if (candidate.test(index)) {
                return index;
            }
        }
        return best;
    }

    static final class Builder {
        private final Map<String, List<Integer>> exact = new HashMap<>();
        private final TrieNode root = new TrieNode();
        private final List<Integer> others = new ArrayList<>();

        void exact(String path, int index) {
            exact.computeIfAbsent(path, k -> new ArrayList<>()).add(index);
        }

        void prefix(String prefix, int index) {
            TrieNode node = root;
            for (int i = 0; i < prefix.length(); i++) {
                node = node.childOrCreate(prefix.charAt(i));
            }
            node.routes = append(node.routes, index);
        }

        void other(int index) {
            others.add(index);
        }

        PathIndex build() {
            Map<String, int[]> e = new HashMap<>();
            exact.forEach((k, v) -> e.put(k, v.stream().mapToInt(Integer::intValue).sorted().toArray()));
            return new PathIndex(e, root, others.stream().mapToInt(Integer::intValue).sorted().toArray());
        }

        private static int[] append(int[] a, int v) {
            int[] out = a == null ? new int[1] : Arrays.copyOf(a, a.length + 1);
            out[out.length - 1] = v;
            Arrays.sort(out);
            return out;
        }
    }

    /** A trie node with a small sorted child array: paths are short and mostly ASCII. */
    private static final class TrieNode {
        private char[] keys = new char[0];
        private TrieNode[] children = new TrieNode[0];
        private int[] routes;

        TrieNode child(char c) {
            char[] k = keys;
            for (int i = 0; i < k.length; i++) {
                if (k[i] == c) {
                    return children[i];
                }
            }
            return null;
        }

        TrieNode childOrCreate(char c) {
            TrieNode existing = child(c);
            if (existing != null) {
                return existing;
            }
            keys = Arrays.copyOf(keys, keys.length + 1);
            children = Arrays.copyOf(children, children.length + 1);
            keys[keys.length - 1] = c;
            TrieNode n = new TrieNode();
            children[children.length - 1] = n;
            return n;
        }
    }
}
