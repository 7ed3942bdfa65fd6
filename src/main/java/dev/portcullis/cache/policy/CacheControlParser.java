package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.Syntax.isTchar;
import static dev.portcullis.cache.policy.Syntax.regionEquals;
import static dev.portcullis.cache.policy.Syntax.skipOws;
import static dev.portcullis.cache.policy.Syntax.trimOws;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The scanner behind {@link CacheControl}: one pass over each field line, directive names matched in place,
 * numbers read without substrings; the rules for repeated, invalid and malformed directives are documented on
 * {@link CacheControl}.
 */
final class CacheControlParser {
    private static final long INVALID = -2;
    private static final long ABSENT = CacheControl.ABSENT;
    private static final long ANY = CacheControl.ANY;
    private static final long MAX_DELTA = CacheControl.MAX_DELTA;

    private CacheControlParser() {
    }

    static boolean pragmaNoCache(HttpHeaders headers) {
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
    static CacheControl parseLine(CacheControl cc, CharSequence v, boolean request) {
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
        long value = Syntax.digits(v, from, to, MAX_DELTA);
        return value < 0 ? INVALID : value;
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
}
