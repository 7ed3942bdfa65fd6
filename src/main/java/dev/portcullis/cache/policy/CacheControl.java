package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The directives of one message's {@code Cache-Control} field lines (RFC 9111 section 5.2), request or response.
 *
 * <p>Parsing follows the grammar {@code #( token [ "=" ( token / quoted-string ) ] )}: names case-insensitive,
 * arguments in token or quoted form alike ({@code max-age=5} equals {@code max-age="5"}), commas inside quotes do not
 * split, unknown directives are skipped, all field lines are read as one list. Where a directive is repeated,
 * invalid or malformed, the most restrictive reading wins (section 4.2.1):
 * <ul>
 * <li>{@code max-age} / {@code s-maxage}: an invalid delta-seconds counts as {@code 0}; in a response two different
 *     values count as {@code 0} (the response is stale), in a request the smallest wins;</li>
 * <li>{@code max-stale}, {@code stale-while-revalidate}, {@code stale-if-error} (they widen what may be served):
 *     an invalid value is ignored, the smallest of several wins; {@code min-fresh}: invalid ignored, largest wins;</li>
 * <li>{@code no-cache} / {@code private}: the unqualified form beats any field-name list; lists accumulate.</li>
 * </ul>
 * A delta-seconds larger than 2^31 is read as 2^31 (section 1.2.2). One object per message that has the field, none
 * for messages without it ({@link #EMPTY}); numbers are read in place, without substrings.
 */
public final class CacheControl {
    /** An absent numeric directive. */
    public static final long ABSENT = -1;
    /** The largest delta-seconds we represent (RFC 9111 section 1.2.2). */
    public static final long MAX_DELTA = 2147483648L;
    /** {@code max-stale} without a value: any staleness. */
    public static final long ANY = Long.MAX_VALUE;
    /** No directive at all (no field, or only unknown directives). */
    public static final CacheControl EMPTY = new CacheControl(false);

    private static final long INVALID = -2;

    private final boolean request;
    private boolean noStore;
    private boolean noCache;
    private List<String> noCacheFields = List.of();
    private boolean isPrivate;
    private List<String> privateFields = List.of();
    private boolean isPublic;
    private boolean mustRevalidate;
    private boolean proxyRevalidate;
    private boolean mustUnderstand;
    private boolean noTransform;
    private boolean immutable;
    private boolean onlyIfCached;
    private long maxAge = ABSENT;
    private long sMaxAge = ABSENT;
    private long maxStale = ABSENT;
    private long minFresh = ABSENT;
    private long staleWhileRevalidate = ABSENT;
    private long staleIfError = ABSENT;

    private CacheControl(boolean request) {
        this.request = request;
    }

    /** The response's directives ({@code Pragma} is not read on responses: section 5.4). */
    public static CacheControl response(HttpHeaders headers) {
        return parse(headers, false);
    }

    /**
     * The request's directives; without any {@code Cache-Control} line, {@code Pragma: no-cache} reads as
     * {@code Cache-Control: no-cache} (section 5.4).
     */
    public static CacheControl request(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            return pragmaNoCache(headers) ? PRAGMA_NO_CACHE : EMPTY;
        }
        return parse(headers, true);
    }

    private static final CacheControl PRAGMA_NO_CACHE = new CacheControl(true);

    static {
        PRAGMA_NO_CACHE.noCache = true;
    }

    /** Parses field line values directly (tests, and callers holding the values already). */
    public static CacheControl parse(Iterable<? extends CharSequence> lines, boolean request) {
        CacheControl cc = null;
        for (CharSequence line : lines) {
            cc = parseLine(cc, line, request);
        }
        return cc == null ? EMPTY : cc;
    }

    private static CacheControl parse(HttpHeaders headers, boolean request) {
        CacheControl cc = null;
        Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(HttpHeaderNames.CACHE_CONTROL);
        while (it.hasNext()) {
            cc = parseLine(cc, it.next(), request);
        }
        return cc == null ? EMPTY : cc;
    }

    private static boolean pragmaNoCache(HttpHeaders headers) {
        Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(HttpHeaderNames.PRAGMA);
        while (it.hasNext()) {
            CharSequence v = it.next();
            int n = v.length();
            int i = 0;
            while (i < n) {
                int end = i;
                while (end < n && v.charAt(end) != ',') {
                    end++;
                }
                int s = skipOws(v, i, end);
                int e = trimOws(v, s, end);
                if (e - s == 8 && regionEquals(v, s, "no-cache")) {
                    return true;
                }
                i = end + 1;
            }
        }
        return false;
    }

    /** Scans one field line; {@code cc} is created lazily on the first known directive. */
    private static CacheControl parseLine(CacheControl cc, CharSequence v, boolean request) {
        int n = v.length();
        int i = 0;
        while (i < n) {
            i = skipOws(v, i, n);
            if (i < n && v.charAt(i) == ',') {
                i++;
                continue;
            }
            int nameStart = i;
            while (i < n && isTchar(v.charAt(i))) {
                i++;
            }
            int nameEnd = i;
            i = skipOws(v, i, n);
            int argStart = -1;
            int argEnd = -1;
            boolean escaped = false;
            boolean malformed = false;
            if (i < n && v.charAt(i) == '=') {
                i = skipOws(v, i + 1, n);
                if (i < n && v.charAt(i) == '"') {
                    argStart = ++i;
                    while (i < n && v.charAt(i) != '"') {
                        if (v.charAt(i) == '\\' && i + 1 < n) {
                            escaped = true;
                            i++;
                        }
                        i++;
                    }
                    argEnd = i;
                    if (i < n) {
                        i++; // closing quote
                    } else {
                        malformed = true; // unterminated quoted-string
                    }
                } else {
                    argStart = i;
                    while (i < n && isTchar(v.charAt(i))) {
                        i++;
                    }
                    argEnd = i;
                }
                i = skipOws(v, i, n);
            }
            if (i < n && v.charAt(i) != ',') {
                // Garbage after the directive: the element is malformed; skip to the next comma outside quotes.
                malformed = true;
                boolean inQuote = false;
                while (i < n && (inQuote || v.charAt(i) != ',')) {
                    char c = v.charAt(i);
                    if (c == '"') {
                        inQuote = !inQuote;
                    } else if (c == '\\' && inQuote) {
                        i++;
                    }
                    i++;
                }
            }
            if (nameEnd > nameStart) {
                cc = apply(cc, v, nameStart, nameEnd, argStart, argEnd, escaped, malformed, request);
            }
            i++; // the comma
        }
        return cc;
    }

    private static CacheControl apply(CacheControl cc, CharSequence v, int ns, int ne, int as, int ae,
                                      boolean escaped, boolean malformed, boolean request) {
        int len = ne - ns;
        Directive d = Directive.of(v, ns, len);
        if (d == null) {
            return cc; // unknown directives are ignored (section 5.2.3)
        }
        if (cc == null) {
            cc = new CacheControl(request);
        }
        boolean hasArg = as >= 0;
        long delta = !hasArg || malformed || escaped ? INVALID : delta(v, as, ae);
        switch (d) {
            case NO_STORE -> cc.noStore = true;
            case NO_CACHE -> {
                List<String> fields = hasArg && !request && !malformed
                        ? addFields(cc.noCacheFields, v, as, ae, escaped) : null;
                if (fields == null) {
                    cc.noCache = true; // unqualified, or a list without one valid name: the restrictive reading
                } else {
                    cc.noCacheFields = fields;
                }
            }
            case PRIVATE -> {
                List<String> fields = hasArg && !request && !malformed
                        ? addFields(cc.privateFields, v, as, ae, escaped) : null;
                if (fields == null) {
                    cc.isPrivate = true;
                } else {
                    cc.privateFields = fields;
                }
            }
            case PUBLIC -> cc.isPublic = true;
            case MUST_REVALIDATE -> cc.mustRevalidate = true;
            case PROXY_REVALIDATE -> cc.proxyRevalidate = true;
            case MUST_UNDERSTAND -> cc.mustUnderstand = true;
            case NO_TRANSFORM -> cc.noTransform = true;
            case IMMUTABLE -> cc.immutable = true;
            case ONLY_IF_CACHED -> cc.onlyIfCached = true;
            case MAX_AGE -> cc.maxAge = limiting(cc.maxAge, delta, request);
            case S_MAXAGE -> cc.sMaxAge = limiting(cc.sMaxAge, delta, request);
            case MAX_STALE -> {
                long value = !hasArg && !malformed ? ANY : delta;
                cc.maxStale = widening(cc.maxStale, value);
            }
            case MIN_FRESH -> {
                if (delta >= 0) {
                    cc.minFresh = Math.max(cc.minFresh, delta);
                }
            }
            case STALE_WHILE_REVALIDATE -> cc.staleWhileRevalidate = widening(cc.staleWhileRevalidate, delta);
            case STALE_IF_ERROR -> cc.staleIfError = widening(cc.staleIfError, delta);
            default -> throw new AssertionError(d);
        }
        return cc;
    }

    /** max-age, s-maxage: invalid means 0; several values: smallest (request) or 0 when they differ (response). */
    private static long limiting(long current, long value, boolean request) {
        if (value == INVALID) {
            return 0;
        }
        if (current == ABSENT) {
            return value;
        }
        if (request) {
            return Math.min(current, value);
        }
        return current == value ? current : 0;
    }

    /** Directives that allow more staleness: invalid ignored, smallest of several wins. */
    private static long widening(long current, long value) {
        if (value < 0) {
            return current;
        }
        return current == ABSENT ? value : Math.min(current, value);
    }

    /** delta-seconds = 1*DIGIT; capped at 2^31; anything else (sign, dot, unit, empty) is INVALID. */
    private static long delta(CharSequence v, int from, int to) {
        if (to <= from) {
            return INVALID;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return INVALID;
            }
            if (value < MAX_DELTA) {
                value = value * 10 + (c - '0');
            }
        }
        return Math.min(value, MAX_DELTA);
    }

    /**
     * Field names of {@code no-cache="a, b"} / {@code private=a} added to {@code into}, lower case; malformed names
     * are skipped; null when the argument holds no valid name at all.
     */
    private static List<String> addFields(List<String> into, CharSequence v, int from, int to, boolean escaped) {
        CharSequence text = v;
        if (escaped) {
            StringBuilder sb = new StringBuilder(to - from);
            for (int i = from; i < to; i++) {
                char c = v.charAt(i);
                if (c == '\\' && i + 1 < to) {
                    c = v.charAt(++i);
                }
                sb.append(c);
            }
            text = sb;
            from = 0;
            to = sb.length();
        }
        List<String> out = new ArrayList<>(into);
        boolean any = false;
        int i = from;
        while (i < to) {
            int end = i;
            while (end < to && text.charAt(end) != ',') {
                end++;
            }
            int s = skipOws(text, i, end);
            int e = trimOws(text, s, end);
            boolean token = e > s;
            for (int k = s; k < e && token; k++) {
                token = isTchar(text.charAt(k));
            }
            if (token) {
                any = true;
                String name = text.subSequence(s, e).toString().toLowerCase(Locale.ROOT);
                if (!out.contains(name)) {
                    out.add(name);
                }
            }
            i = end + 1;
        }
        return any ? List.copyOf(out) : null;
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

    /** The directives we act on; matched by length first, then case-insensitively. */
    private enum Directive {
        NO_STORE("no-store"), NO_CACHE("no-cache"), PRIVATE("private"), PUBLIC("public"),
        MUST_REVALIDATE("must-revalidate"), PROXY_REVALIDATE("proxy-revalidate"), MUST_UNDERSTAND("must-understand"),
        NO_TRANSFORM("no-transform"), IMMUTABLE("immutable"), ONLY_IF_CACHED("only-if-cached"), MAX_AGE("max-age"),
        S_MAXAGE("s-maxage"), MAX_STALE("max-stale"), MIN_FRESH("min-fresh"),
        STALE_WHILE_REVALIDATE("stale-while-revalidate"), STALE_IF_ERROR("stale-if-error");

        private static final Directive[] ALL = values();
        final String name;

        Directive(String name) {
            this.name = name;
        }

        static Directive of(CharSequence v, int from, int len) {
            for (Directive d : ALL) {
                if (d.name.length() == len && regionEquals(v, from, d.name)) {
                    return d;
                }
            }
            return null;
        }
    }

    // ---- accessors ----

    /** {@code no-store} (request or response). */
    public boolean noStore() {
        return noStore;
    }

    /** Unqualified {@code no-cache} (request, or response without field names), or request {@code Pragma: no-cache}. */
    public boolean noCache() {
        return noCache;
    }

    /** Response {@code no-cache="a, b"} field names, lower case; empty when none or when unqualified. */
    public List<String> noCacheFields() {
        return noCache ? List.of() : noCacheFields;
    }

    /** Unqualified {@code private}. */
    public boolean isPrivate() {
        return isPrivate;
    }

    /** {@code private="a, b"} field names, lower case; empty when none or when unqualified. */
    public List<String> privateFields() {
        return isPrivate ? List.of() : privateFields;
    }

    public boolean isPublic() {
        return isPublic;
    }

    public boolean mustRevalidate() {
        return mustRevalidate;
    }

    public boolean proxyRevalidate() {
        return proxyRevalidate;
    }

    public boolean mustUnderstand() {
        return mustUnderstand;
    }

    public boolean noTransform() {
        return noTransform;
    }

    /** RFC 8246 {@code immutable}: parsed and reported; a shared cache draws nothing from it beyond freshness. */
    public boolean immutable() {
        return immutable;
    }

    public boolean onlyIfCached() {
        return onlyIfCached;
    }

    /** Seconds, or {@link #ABSENT}; 0 when invalid (or, in a response, conflicting). */
    public long maxAge() {
        return maxAge;
    }

    /** Seconds, or {@link #ABSENT}; 0 when invalid or conflicting. */
    public long sMaxAge() {
        return sMaxAge;
    }

    /** Seconds, {@link #ANY} without a value, or {@link #ABSENT}. */
    public long maxStale() {
        return maxStale;
    }

    /** Seconds, or {@link #ABSENT}. */
    public long minFresh() {
        return minFresh;
    }

    /** RFC 5861 seconds, or {@link #ABSENT}. */
    public long staleWhileRevalidate() {
        return staleWhileRevalidate;
    }

    /** RFC 5861 seconds (request or response), or {@link #ABSENT}. */
    public long staleIfError() {
        return staleIfError;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(request ? "request[" : "response[");
        flag(sb, noStore, "no-store");
        flag(sb, noCache, "no-cache");
        flag(sb, !noCacheFields().isEmpty(), "no-cache=" + noCacheFields);
        flag(sb, isPrivate, "private");
        flag(sb, !privateFields().isEmpty(), "private=" + privateFields);
        flag(sb, isPublic, "public");
        flag(sb, mustRevalidate, "must-revalidate");
        flag(sb, proxyRevalidate, "proxy-revalidate");
        flag(sb, mustUnderstand, "must-understand");
        flag(sb, noTransform, "no-transform");
        flag(sb, immutable, "immutable");
        flag(sb, onlyIfCached, "only-if-cached");
        flag(sb, maxAge != ABSENT, "max-age=" + maxAge);
        flag(sb, sMaxAge != ABSENT, "s-maxage=" + sMaxAge);
        flag(sb, maxStale != ABSENT, maxStale == ANY ? "max-stale" : "max-stale=" + maxStale);
        flag(sb, minFresh != ABSENT, "min-fresh=" + minFresh);
        flag(sb, staleWhileRevalidate != ABSENT, "stale-while-revalidate=" + staleWhileRevalidate);
        flag(sb, staleIfError != ABSENT, "stale-if-error=" + staleIfError);
        return sb.append(']').toString();
    }

    private static void flag(StringBuilder sb, boolean on, String text) {
        if (on) {
            if (sb.charAt(sb.length() - 1) != '[') {
                sb.append(", ");
            }
            sb.append(text);
        }
    }
}
