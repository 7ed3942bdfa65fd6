package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The secondary cache key of RFC 9111 section 4.1: the request header values a stored response's {@code Vary} names.
 *
 * <p>Two requests select the same stored response when their secondary keys are equal strings. Normalisation:
 * field names lower case and in sorted order; the field lines of one name combined with commas (RFC 9110 section
 * 5.3); optional whitespace trimmed at the ends and around each comma; an absent field differs from an empty one.
 * {@code Accept-Encoding} gets a canonical form so that {@code gzip, br} and {@code br,gzip;q=0.8} match: the
 * acceptable codings (q > 0) lower case, {@code x-gzip}/{@code x-compress} as {@code gzip}/{@code compress},
 * {@code identity} left out (it is acceptable unless refused), sorted and de-duplicated; refused codings
 * ({@code q=0}) follow as {@code ;q=0} entries. Preference weights are dropped: origins choose the coding by their
 * own order among the acceptable ones, so {@code gzip;q=0.5, br} and {@code br, gzip} get one stored variant.
 */
public final class VaryKey {
    /** The secondary key of a response without Vary. */
    public static final String NONE = "";

    private VaryKey() {
    }

    /** The Vary field names, lower case, sorted, de-duplicated; {@code ["*"]} when any member is {@code *}. */
    public static List<String> names(HttpHeaders response) {
        if (!response.contains(HttpHeaderNames.VARY)) {
            return List.of();
        }
        List<String> names = new ArrayList<>(2);
        Iterator<String> it = response.valueStringIterator(HttpHeaderNames.VARY);
        while (it.hasNext()) {
            for (String member : it.next().split(",")) {
                String name = member.trim().toLowerCase(Locale.ROOT);
                if (name.equals("*")) {
                    return List.of("*");
                }
                if (!name.isEmpty() && !names.contains(name)) {
                    names.add(name);
                }
            }
        }
        Collections.sort(names);
        return List.copyOf(names);
    }

    /** True for {@code Vary: *} (never matches: section 4.1). */
    public static boolean isStar(List<String> names) {
        return names.size() == 1 && names.get(0).equals("*");
    }

    /** The secondary key of {@code request} for a response varying on {@code names} ({@link #names}). */
    public static String of(List<String> names, HttpHeaders request) {
        if (names.isEmpty()) {
            return NONE;
        }
        StringBuilder sb = new StringBuilder(64);
        for (String name : names) {
            sb.append(name);
            if (!request.contains(name)) {
                sb.append('!').append('\n'); // absent: differs from present-but-empty ("name=\n")
                continue;
            }
            sb.append('=');
            if (name.equals("accept-encoding")) {
                acceptEncoding(sb, request.getAll(name).iterator());
            } else {
                combined(sb, request.getAll(name).iterator()); // getAll: field order (the iterators run backwards)
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Whether a request selects a stored response that varies on {@code names} with {@code storedKey}. */
    public static boolean matches(List<String> names, String storedKey, HttpHeaders request) {
        return !isStar(names) && storedKey.equals(of(names, request));
    }

    /** All lines, comma-joined, OWS trimmed around every comma and at both ends; empty members dropped. */
    private static void combined(StringBuilder sb, Iterator<String> lines) {
        boolean first = true;
        while (lines.hasNext()) {
            String v = lines.next();
            int n = v.length();
            int i = 0;
            while (i <= n) {
                int end = v.indexOf(',', i);
                if (end < 0) {
                    end = n;
                }
                int s = Syntax.skipOws(v, i, end);
                int e = Syntax.trimOws(v, s, end);
                if (e > s) {
                    if (!first) {
                        sb.append(',');
                    }
                    sb.append(v, s, e);
                    first = false;
                }
                i = end + 1;
            }
        }
    }

    /** The canonical Accept-Encoding described above. */
    static String acceptEncoding(Iterable<String> lines) {
        StringBuilder sb = new StringBuilder();
        acceptEncoding(sb, lines.iterator());
        return sb.toString();
    }

    private static void acceptEncoding(StringBuilder sb, Iterator<String> lines) {
        List<String> accepted = new ArrayList<>(4);
        List<String> refused = new ArrayList<>(1);
        while (lines.hasNext()) {
            for (String member : lines.next().split(",")) {
                int semi = member.indexOf(';');
                String coding = (semi < 0 ? member : member.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
                if (coding.isEmpty()) {
                    continue;
                }
                if (coding.equals("x-gzip")) {
                    coding = "gzip";
                } else if (coding.equals("x-compress")) {
                    coding = "compress";
                }
                List<String> into = semi >= 0 && zeroQ(member.substring(semi + 1)) ? refused : accepted;
                if (!into.contains(coding)) {
                    into.add(coding);
                }
            }
        }
        accepted.removeAll(refused); // "gzip, gzip;q=0": the refusal wins
        accepted.remove("identity");
        Collections.sort(accepted);
        Collections.sort(refused);
        String sep = "";
        for (String c : accepted) {
            sb.append(sep).append(c);
            sep = ",";
        }
        for (String c : refused) {
            sb.append(sep).append(c).append(";q=0");
            sep = ",";
        }
    }

    /** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): true for the zero forms only. */
    private static boolean isZero(String v) {
        if (v.isEmpty() || v.charAt(0) != '0' || v.length() > 5) {
            return false;
        }
        if (v.length() == 1) {
            return true;
        }
        if (v.charAt(1) != '.') {
            return false;
        }
        for (int i = 2; i < v.length(); i++) {
            if (v.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    /** {@code q=0}, {@code q=0.}, {@code q=0.000} among the parameters (names case-insensitive). */
    private static boolean zeroQ(String params) {
        for (String p : params.split(";")) {
            String t = p.trim();
            if (t.length() >= 2 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q')) {
                int eq = Syntax.skipOws(t, 1, t.length());
                if (eq < t.length() && t.charAt(eq) == '=') {
                    String value = t.substring(eq + 1).trim();
                    return isZero(value);
                }
            }
        }
        return false;
    }
}
