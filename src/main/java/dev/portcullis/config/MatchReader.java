package dev.portcullis.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code routes[].match}. */
final class MatchReader {
    static final List<String> KEYS = List.of("host", "path", "path_prefix", "path_regex", "methods", "headers", "query", "source");

    private MatchReader() {}

    static MatchConfig read(Section route) {
        if (!route.has("match")) {
            return MatchConfig.ANY;
        }
        Section m = route.section("match");
        m.keys(KEYS, List.of());

        List<String> hosts = new ArrayList<>();
        for (Section.Item item : m.items("host", true)) {
            String h = parse(m, item, "a host name", Addresses::hostPattern);
            if (h != null) {
                hosts.add(h);
            }
        }

        List<String> pathKeys = new ArrayList<>();
        for (String k : List.of("path", "path_prefix", "path_regex")) {
            if (m.has(k)) {
                pathKeys.add(k);
            }
        }
        if (pathKeys.size() > 1) {
            m.error(pathKeys.get(1), "only one of path, path_prefix, path_regex may be set; found '"
                    + String.join("' and '", pathKeys) + "'");
        }
        String path = m.parse("path", null, "a path", MatchReader::absolutePath);
        String prefix = m.parse("path_prefix", null, "a path", MatchReader::absolutePath);
        String regex = m.parse("path_regex", null, "a regular expression", MatchReader::regex);

        List<String> methods = new ArrayList<>();
        for (Section.Item item : m.items("methods", true)) {
            String method = parse(m, item, "a method name", s -> {
                if (!Values.isToken(s)) {
                    throw new IllegalArgumentException("invalid method '" + s + "'; expected a name such as GET or POST");
                }
                return s.toUpperCase(Locale.ROOT);
            });
            if (method != null) {
                methods.add(method);
            }
        }

        Map<String, String> headers = stringMap(m.section("headers"), true);
        Map<String, String> query = stringMap(m.section("query"), false);

        List<String> sources = new ArrayList<>();
        for (Section.Item item : m.items("source", true)) {
            String cidr = parse(m, item, "an address or CIDR", Addresses::cidr);
            if (cidr != null) {
                sources.add(cidr);
            }
        }
        return new MatchConfig(List.copyOf(hosts), path, prefix, regex, List.copyOf(methods), headers, query, List.copyOf(sources));
    }

    static String absolutePath(String s) {
        if (!s.startsWith("/")) {
            throw new IllegalArgumentException("invalid path '" + s + "'; a path must start with '/'");
        }
        return s;
    }

    static String regex(String s) {
        try {
            Pattern.compile(s);
            return s;
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regular expression '" + s + "': " + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""));
        }
    }

    /** One item of a sequence parsed with {@code parser}; null after an error. */
    static <T> T parse(Section s, Section.Item item, String expected, java.util.function.Function<String, T> parser) {
        String text = s.scalar(item.node(), item.path(), expected);
        if (text == null) {
            return null;
        }
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            s.errors.at(item.node(), item.path(), e.getMessage());
            return null;
        }
    }

    /** A mapping of names to scalar values, in file order; names checked as header tokens when asked. */
    static Map<String, String> stringMap(Section map, boolean headerNames) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Section.Entry e : map.entries()) {
            if (headerNames && !Values.isToken(e.key())) {
                map.errors.at(e.keyNode(), e.path(), "invalid header name '" + e.key() + "'; expected an RFC 9110 token");
                continue;
            }
            String v = Nodes.isNull(e.value()) ? "" : map.scalar(e.value(), e.path(), "a string");
            if (v != null) {
                out.put(e.key(), v);
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
