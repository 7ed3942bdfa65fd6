package dev.portcullis.cache.store;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The header fields of a stored response: an immutable list of name/value pairs that keeps their order and
 * duplicates (a {@code Set-Cookie} or {@code Vary} repeated by the origin is replayed exactly). One flat array
 * (name, value, name, value...) instead of a map: a stored object is read far more often than searched, and a
 * later disk tier writes it out as it is.
 */
public final class HeaderList {
    public static final HeaderList EMPTY = new HeaderList(new String[0]);

    private final String[] pairs;

    private HeaderList(String[] pairs) {
        this.pairs = pairs;
    }

    /** @param namesAndValues name, value, name, value... */
    public static HeaderList of(String... namesAndValues) {
        if ((namesAndValues.length & 1) != 0) {
            throw new IllegalArgumentException("header names and values must come in pairs");
        }
        String[] copy = namesAndValues.clone();
        for (String s : copy) {
            if (s == null) {
                throw new NullPointerException("header name or value is null");
            }
        }
        return new HeaderList(copy);
    }

    /** A copy of Netty's headers, in their order. */
    public static HeaderList from(HttpHeaders headers) {
        String[] pairs = new String[headers.size() * 2];
        int i = 0;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            if (i == pairs.length) { // size() and the iterator disagree only for odd HttpHeaders implementations
                pairs = Arrays.copyOf(pairs, pairs.length * 2 + 2);
            }
            pairs[i++] = e.getKey().toString();
            pairs[i++] = e.getValue().toString();
        }
        return new HeaderList(i == pairs.length ? pairs : Arrays.copyOf(pairs, i));
    }

    /** Adds every field to {@code target}, in order (for writing a stored response's head). */
    public void addTo(HttpHeaders target) {
        for (int i = 0; i < pairs.length; i += 2) {
            target.add(pairs[i], pairs[i + 1]);
        }
    }

    public int size() {
        return pairs.length / 2;
    }

    public String name(int index) {
        return pairs[index * 2];
    }

    public String value(int index) {
        return pairs[index * 2 + 1];
    }

    /** The first value of the field (names compare case-insensitively), or null. */
    public String get(String name) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i].equalsIgnoreCase(name)) {
                return pairs[i + 1];
            }
        }
        return null;
    }

    /** Every value of the field, in order. */
    public List<String> all(String name) {
        List<String> out = new ArrayList<>(2);
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i].equalsIgnoreCase(name)) {
                out.add(pairs[i + 1]);
            }
        }
        return out;
    }

    /** The field's values joined with ", " (RFC 9110 §5.3 list syntax), or "" when absent. */
    public String joined(String name) {
        String single = null;
        StringBuilder sb = null;
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i].equalsIgnoreCase(name)) {
                if (single == null) {
                    single = pairs[i + 1];
                } else {
                    if (sb == null) {
                        sb = new StringBuilder(single);
                    }
                    sb.append(", ").append(pairs[i + 1]);
                }
            }
        }
        return sb != null ? sb.toString() : single != null ? single : "";
    }

    /** A copy without the named fields (case-insensitive) followed by {@code extra}: how a 304 freshens headers. */
    public HeaderList replacing(HeaderList extra) {
        List<String> out = new ArrayList<>(pairs.length + extra.pairs.length);
        outer:
        for (int i = 0; i < pairs.length; i += 2) {
            for (int j = 0; j < extra.pairs.length; j += 2) {
                if (pairs[i].equalsIgnoreCase(extra.pairs[j])) {
                    continue outer;
                }
            }
            out.add(pairs[i]);
            out.add(pairs[i + 1]);
        }
        out.addAll(Arrays.asList(extra.pairs));
        return new HeaderList(out.toArray(new String[0]));
    }

    /** Roughly the heap this list takes (Latin-1 compact strings: one byte a char, plus object headers). */
    public long byteSize() {
        long n = 16 + 8L * pairs.length;
        for (String s : pairs) {
            n += 24 + s.length();
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeaderList h && Arrays.equals(pairs, h.pairs);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(pairs);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < pairs.length; i += 2) {
            sb.append(i == 0 ? "" : ", ").append(pairs[i]).append(": ").append(pairs[i + 1]);
        }
        return sb.append(']').toString();
    }
}
