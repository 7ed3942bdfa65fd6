package dev.portcullis.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsing of the config's value formats. Each method throws {@link IllegalArgumentException} whose message names
 * the bad value and what is accepted; the loader turns it into a {@link ConfigError}.
 */
public final class Values {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([A-Za-z]*)");
    private static final Pattern RATE = Pattern.compile("(\\d+)\\s*/\\s*(s|m|h|d)");
    private static final Pattern PERCENT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*%");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private Values() {}

    /** A requests-per-period rate such as {@code 100/s}. */
    public record Rate(long count, Duration per) {
        public double perSecond() {
            return count * 1e9 / per.toNanos();
        }
    }

    /** {@code 250ms 5s 1m 1h 7d}, or a bare {@code 0}. */
    public static Duration duration(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) {
            String hint = s.matches("\\d+") ? " (a number needs a unit)" : "";
            throw new IllegalArgumentException("invalid duration '" + text + "'" + hint
                    + "; expected a whole number and a unit: ms, s, m, h or d, such as 250ms, 5s, 1m, 1h, 7d");
        }
        long n = number(m.group(1), text);
        try {
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("duration '" + text + "' is too large");
        }
    }

    /**
     * Bytes: a bare number, or a number and a unit. KiB, MiB, GiB and, as in nginx, k/K/KB, m/M/MB, g/G/GB are all
     * powers of 1024 (1k = 1KiB = 1024). B means bytes. Units are case-insensitive.
     */
    public static long size(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(badSize(text));
        }
        long n = number(m.group(1), text);
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "k", "kb", "kib" -> 1L << 10;
            case "m", "mb", "mib" -> 1L << 20;
            case "g", "gb", "gib" -> 1L << 30;
            default -> throw new IllegalArgumentException(badSize(text));
        };
        try {
            return Math.multiplyExact(n, unit);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
    }

    private static String badSize(String text) {
        return "invalid size '" + text + "'; expected bytes or a number with a unit: KiB, MiB, GiB"
                + " (also k, KB, M, MB, G, GB, all powers of 1024), such as 512, 64KiB, 16MiB, 1GiB";
    }

    /** YAML 1.1 booleans: true/false, yes/no, on/off, any case. */
    public static boolean bool(String text) {
        Boolean b = boolOrNull(text);
        if (b == null) {
            throw new IllegalArgumentException("invalid boolean '" + text + "'; expected true or false (also yes/no, on/off)");
        }
        return b;
    }

    /** @return null when the text is not a YAML 1.1 boolean */
    public static Boolean boolOrNull(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Boolean.TRUE;
            case "false", "no", "off" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** {@code 100/s 6000/m 1000/h 1000000/d}. */
    public static Rate rate(String text) {
        Matcher m = RATE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid rate '" + text + "'; expected a count per s, m, h or d, such as 100/s, 6000/m");
        }
        long n = number(m.group(1), text);
        if (n == 0) {
            throw new IllegalArgumentException("rate '" + text + "' must be above zero");
        }
        Duration per = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(1);
            case "m" -> Duration.ofMinutes(1);
            case "h" -> Duration.ofHours(1);
            default -> Duration.ofDays(1);
        };
        return new Rate(n, per);
    }

    /** {@code 20%} as 20.0; 0..100. */
    public static double percent(String text) {
        Matcher m = PERCENT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid percentage '" + text + "'; expected a number and %, such as 20%");
        }
        double d = Double.parseDouble(m.group(1));
        if (d > 100) {
            throw new IllegalArgumentException("percentage '" + text + "' is over 100%");
        }
        return d;
    }

    /** A name of a listener, route or upstream: {@code [A-Za-z0-9_.-]+}. */
    public static boolean isName(String s) {
        return NAME.matcher(s).matches();
    }

    /** An RFC 9110 token (header field names, methods). */
    public static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static long number(String digits, String text) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("number in '" + text + "' is too large");
        }
    }
}
