package dev.portcullis.upstream.health;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One line from an agent, read as HAProxy reads {@code agent-check} replies: words separated by spaces, tabs or
 * commas, case-insensitive, anything after {@code #} a comment.
 * <ul>
 *   <li>{@code 75%}: the weight in percent of the configured weight ({@code 0%}: no new requests);</li>
 *   <li>a bare number such as {@code 30}: a weight on the config's scale (1..1000), turned into a percentage of
 *       the endpoint's configured weight;</li>
 *   <li>{@code up}: the agent no longer holds it down; {@code down}, {@code fail}, {@code stopped}, {@code maint}:
 *       no requests at all;</li>
 *   <li>{@code drain}: no new requests (in-flight ones finish) until the agent says {@code ready};
 *       {@code ready}: neither drained nor down by the agent.</li>
 * </ul>
 * {@code maxconn:N} is accepted and ignored; other words are reported as unknown. Null fields: not mentioned.
 *
 * @param percent weight in percent, or null
 * @param weight  absolute weight, or null
 * @param down    the agent holds the endpoint down (true), lets it up (false), or null
 * @param drained the agent drains it (true), makes it ready (false), or null
 * @param unknown words not understood
 */
record AgentReply(Integer percent, Integer weight, Boolean down, Boolean drained, List<String> unknown) {

    static AgentReply parse(String line) {
        String text = line;
        int hash = text.indexOf('#');
        if (hash >= 0) {
            text = text.substring(0, hash);
        }
        Integer percent = null;
        Integer weight = null;
        Boolean down = null;
        Boolean drained = null;
        List<String> unknown = new ArrayList<>();
        for (String raw : words(text)) {
            String w = raw.toLowerCase(Locale.ROOT);
            switch (w) {
                case "up" -> down = false;
                case "down", "fail", "failed", "stopped", "maint" -> down = true;
                case "drain" -> drained = true;
                case "ready" -> {
                    drained = false;
                    down = false;
                }
                default -> {
                    if (w.endsWith("%") && digits(w, w.length() - 1)) {
                        percent = number(w.substring(0, w.length() - 1));
                    } else if (digits(w, w.length())) {
                        weight = number(w);
                    } else if (!w.startsWith("maxconn:")) {
                        unknown.add(raw);
                    }
                }
            }
        }
        return new AgentReply(percent, weight, down, drained, List.copyOf(unknown));
    }

    /** Whether the line said anything this proxy acts on. */
    boolean meaningful() {
        return percent != null || weight != null || down != null || drained != null;
    }

    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= s.length(); i++) {
            boolean sep = i == s.length() || s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == ','
                    || s.charAt(i) == '\r' || s.charAt(i) == '\n';
            if (sep && start >= 0) {
                out.add(s.substring(start, i));
                start = -1;
            } else if (!sep && start < 0) {
                start = i;
            }
        }
        return out;
    }

    private static boolean digits(String s, int end) {
        if (end <= 0 || end > 9) {
            return false;
        }
        for (int i = 0; i < end; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static int number(String s) {
        return Integer.parseInt(s);
    }
}
