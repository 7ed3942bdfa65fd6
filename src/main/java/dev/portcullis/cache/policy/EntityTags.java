package dev.portcullis.cache.policy;

/**
 * Entity-tag comparison (RFC 9110 section 8.8.3.2) on field values as received, without allocating:
 * {@code W/"x"} and {@code "x"} match weakly; only two strong tags with the same opaque-tag match strongly.
 */
public final class EntityTags {
    private EntityTags() {
    }

    /** True for {@code W/"..."}. */
    public static boolean isWeak(CharSequence tag) {
        int s = Syntax.skipOws(tag, 0, tag.length());
        return tag.length() - s >= 2 && tag.charAt(s) == 'W' && tag.charAt(s + 1) == '/';
    }

    /** Weak comparison of two single entity-tags. */
    public static boolean weakEquals(CharSequence a, CharSequence b) {
        return a != null && b != null && opaqueEquals(a, 0, a.length(), b);
    }

    /** Strong comparison: both strong and the same opaque-tag. */
    public static boolean strongEquals(CharSequence a, CharSequence b) {
        return a != null && b != null && !isWeak(a) && !isWeak(b) && opaqueEquals(a, 0, a.length(), b);
    }

    /**
     * Whether an {@code If-None-Match}-style list ({@code *} or {@code #entity-tag}) contains {@code tag} under weak
     * comparison. {@code *} matches any current representation. Malformed members match nothing.
     */
    public static boolean listMatchesWeak(CharSequence list, CharSequence tag) {
        int n = list.length();
        int i = 0;
        while (i < n) {
            i = Syntax.skipOws(list, i, n);
            if (i >= n) {
                break;
            }
            if (list.charAt(i) == ',') {
                i++;
                continue;
            }
            int start = i;
            if (list.charAt(i) == '*') {
                i++;
            } else {
                if (list.charAt(i) == 'W' && i + 1 < n && list.charAt(i + 1) == '/') {
                    i += 2;
                }
                if (i < n && list.charAt(i) == '"') {
                    int close = indexOf(list, '"', i + 1, n);
                    i = close < 0 ? n : close + 1;
                } else {
                    while (i < n && list.charAt(i) != ',') {
                        i++; // malformed member
                    }
                    continue;
                }
            }
            int end = i;
            if (end - start == 1 && list.charAt(start) == '*') {
                return true;
            }
            if (tag != null && opaqueEquals(list, start, end, tag)) {
                return true;
            }
            while (i < n && list.charAt(i) != ',') {
                i++;
            }
        }
        return false;
    }

    /** Compares the opaque-tags (the quoted parts) of {@code a[from,to)} and {@code b}. */
    private static boolean opaqueEquals(CharSequence a, int from, int to, CharSequence b) {
        int as = opaqueStart(a, from, to);
        int ae = Syntax.trimOws(a, as, to);
        int bs = opaqueStart(b, 0, b.length());
        int be = Syntax.trimOws(b, bs, b.length());
        if (as < 0 || bs < 0 || ae - as < 2 || be - bs < 2 || a.charAt(ae - 1) != '"' || b.charAt(be - 1) != '"'
                || ae - as != be - bs) {
            return false;
        }
        for (int k = 0; k < ae - as; k++) {
            if (a.charAt(as + k) != b.charAt(bs + k)) {
                return false;
            }
        }
        return true;
    }

    /** Index of the opening quote after optional OWS and {@code W/}; -1 when there is none. */
    private static int opaqueStart(CharSequence v, int from, int to) {
        int i = Syntax.skipOws(v, from, to);
        if (to - i >= 2 && v.charAt(i) == 'W' && v.charAt(i + 1) == '/') {
            i += 2;
        }
        return i < to && v.charAt(i) == '"' ? i : -1;
    }

    private static int indexOf(CharSequence v, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (v.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }
}
