package dev.portcullis.template;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A string with placeholders such as {@code "{client.ip}"}, parsed once when the config is compiled.
 * Only {@code {word.word}} tokens are placeholders, so JSON bodies and other braces stay literal; a token of
 * that shape naming no known placeholder is a config error.
 */
public final class Template {
    private static final Pattern TOKEN = Pattern.compile("\\{([a-z]+(?:\\.[a-z]+)+)}");

    /** Literal strings and placeholders in order. */
    private final Object[] parts;
    private final String constant;

    private Template(Object[] parts, String constant) {
        this.parts = parts;
        this.constant = constant;
    }

    /** @throws IllegalArgumentException naming the unknown placeholder */
    public static Template compile(String text) {
        List<Object> parts = new ArrayList<>();
        Matcher m = TOKEN.matcher(text);
        int last = 0;
        while (m.find()) {
            Placeholder p = Placeholder.byKey(m.group(1));
            if (p == null) {
                throw new IllegalArgumentException("unknown placeholder {" + m.group(1) + "}; known: " + known());
            }
            if (m.start() > last) {
                parts.add(text.substring(last, m.start()));
            }
            parts.add(p);
            last = m.end();
        }
        if (last < text.length()) {
            parts.add(text.substring(last));
        }
        boolean constant = parts.stream().noneMatch(Placeholder.class::isInstance);
        return new Template(parts.toArray(), constant ? text : null);
    }

    private static String known() {
        StringBuilder sb = new StringBuilder();
        for (Placeholder p : Placeholder.values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append('{').append(p.key()).append('}');
        }
        return sb.toString();
    }

    public boolean isConstant() {
        return constant != null;
    }

    public boolean uses(Placeholder placeholder) {
        for (Object part : parts) {
            if (part == placeholder) {
                return true;
            }
        }
        return false;
    }

    public String render(PlaceholderSource source) {
        if (constant != null) {
            return constant;
        }
        StringBuilder sb = new StringBuilder(64);
        renderTo(source, sb);
        return sb.toString();
    }

    public void renderTo(PlaceholderSource source, StringBuilder out) {
        for (Object part : parts) {
            if (part instanceof Placeholder p) {
                source.append(p, out);
            } else {
                out.append((String) part);
            }
        }
    }
}
