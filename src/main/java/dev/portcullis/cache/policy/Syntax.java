package dev.portcullis.cache.policy;

/** RFC 9110 syntax helpers shared by the parsers of this package: OWS, tchar, case-insensitive literals. */
final class Syntax {
    private Syntax() {
    }

    static int skipOws(CharSequence v, int i, int n) {
        while (i < n && (v.charAt(i) == ' ' || v.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    static int trimOws(CharSequence v, int from, int end) {
        while (end > from && (v.charAt(end - 1) == ' ' || v.charAt(end - 1) == '\t')) {
            end--;
        }
        return end;
    }

    static boolean isTchar(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return switch (c) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    static boolean regionEquals(CharSequence v, int from, String lower) {
        for (int k = 0; k < lower.length(); k++) {
            char c = v.charAt(from + k);
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c + 32);
            }
            if (c != lower.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** 1*DIGIT as a long, saturating at {@code cap} (>= 0); -1 when empty or not all digits (no sign, dot, unit). */
    static long digits(CharSequence v, int from, int to, long cap) {
        if (to <= from) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            int d = c - '0';
            value = value > (cap - d) / 10 ? cap : value * 10 + d;
        }
        return value;
    }
}
