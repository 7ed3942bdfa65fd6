package dev.portcullis.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ${VAR}} and {@code ${VAR:-default}} substitution in the raw text, before YAML parsing.
 * Comments (a {@code #} at the start of a line or after a blank, outside quotes on that line) are left alone,
 * so the reference file's explanatory comments do not need the variables they mention.
 */
final class Env {
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private Env() {}

    static String substitute(String text, Map<String, String> env, Errors errors) {
        StringBuilder out = new StringBuilder(text.length());
        int lineNo = 1;
        int start = 0;
        while (start <= text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            String line = text.substring(start, end);
            int comment = commentStart(line);
            out.append(substituteLine(line.substring(0, comment), env, errors, lineNo));
            out.append(line, comment, line.length());
            if (nl < 0) {
                break;
            }
            out.append('\n');
            start = nl + 1;
            lineNo++;
        }
        return out.toString();
    }

    private static String substituteLine(String part, Map<String, String> env, Errors errors, int lineNo) {
        if (part.indexOf("${") < 0) {
            return part;
        }
        Matcher m = VAR.matcher(part);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null) {
                value = m.group(2);
            }
            if (value == null) {
                errors.atAndSuppress(lineNo, "", "environment variable '" + m.group(1)
                        + "' is not set (write ${" + m.group(1) + ":-default} to give a default)");
                value = "";
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Index where a YAML comment starts in this line, or the line's length. */
    static int commentStart(String line) {
        boolean single = false;
        boolean dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (dbl) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    dbl = false;
                }
            } else if (single) {
                if (c == '\'') {
                    single = false;
                }
            } else if (c == '"' && (i == 0 || " \t[{,:-".indexOf(line.charAt(i - 1)) >= 0)) {
                dbl = true;
            } else if (c == '\'' && (i == 0 || " \t[{,:-".indexOf(line.charAt(i - 1)) >= 0)) {
                single = true;
            } else if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ' || line.charAt(i - 1) == '\t')) {
                return i;
            }
        }
        return line.length();
    }
}
