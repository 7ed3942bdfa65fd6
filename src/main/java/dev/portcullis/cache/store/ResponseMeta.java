package dev.portcullis.cache.store;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What is stored of a response besides its body: immutable, so a 304 revalidation makes a new one with
 * {@link #freshened} and the body is shared, not copied. Every field is a string or a number, so a disk tier can
 * write it out as it is.
 *
 * @param primaryKey        the cache key the integration computed for the request (URL first, so purges by
 *                          prefix work)
 * @param variantKey        the key of this variant among the primary key's (from the request's values of the
 *                          response's {@code Vary} fields); "" when the response does not vary
 * @param status            the status code
 * @param reason            the reason phrase as received
 * @param headers           the header fields as stored (hop-by-hop fields already removed by the caller)
 * @param requestTimeMillis when the request that got this response was sent (epoch millis; RFC 9111 §4.2.3)
 * @param responseTimeMillis when the response was received (epoch millis)
 * @param tags              purge tags, from {@code Surrogate-Key} (space separated) and {@code Cache-Tag} (comma
 *                          separated), in order, without duplicates, at most {@link #MAX_TAGS}
 * @param vary              the response's {@code Vary} values joined with ", "; "" when it has none
 */
public record ResponseMeta(String primaryKey, String variantKey, int status, String reason, HeaderList headers,
                           long requestTimeMillis, long responseTimeMillis, List<String> tags, String vary) {
    /** Tags kept per object: bounds what one response can add to the tag index. */
    public static final int MAX_TAGS = 128;
    /** A longer tag is dropped: tags are identifiers, not payload. */
    public static final int MAX_TAG_LENGTH = 256;

    public ResponseMeta {
        Objects.requireNonNull(primaryKey, "primaryKey");
        Objects.requireNonNull(variantKey, "variantKey");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(headers, "headers");
        tags = List.copyOf(tags);
        Objects.requireNonNull(vary, "vary");
    }

    /** Reads {@code tags} and {@code vary} from the headers. */
    public static ResponseMeta of(String primaryKey, String variantKey, int status, String reason, HeaderList headers,
                                  long requestTimeMillis, long responseTimeMillis) {
        return new ResponseMeta(primaryKey, variantKey, status, reason, headers, requestTimeMillis,
                responseTimeMillis, parseTags(headers), headers.joined("vary"));
    }

    /**
     * The same response after a 304 (RFC 9111 §4.3.4): new header fields (the caller merges them, see
     * {@link HeaderList#replacing}) and new times; keys, status, tags of the new headers.
     */
    public ResponseMeta freshened(HeaderList newHeaders, long newRequestTimeMillis, long newResponseTimeMillis) {
        return new ResponseMeta(primaryKey, variantKey, status, reason, newHeaders, newRequestTimeMillis,
                newResponseTimeMillis, parseTags(newHeaders), newHeaders.joined("vary"));
    }

    /** Heap bytes this metadata takes, roughly; part of an object's weight. */
    long byteSize() {
        long n = 96 + headers.byteSize() + 2L * (primaryKey.length() + variantKey.length()) + reason.length();
        for (String t : tags) {
            n += 40 + t.length();
        }
        return n;
    }

    /** {@code Surrogate-Key: a b c} (Fastly, Varnish xkey) and {@code Cache-Tag: a,b,c} (Cloudflare) together. */
    static List<String> parseTags(HeaderList headers) {
        Set<String> out = null;
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.name(i);
            boolean surrogate = name.equalsIgnoreCase("surrogate-key");
            if (!surrogate && !name.equalsIgnoreCase("cache-tag")) {
                continue;
            }
            String v = headers.value(i);
            int start = 0;
            for (int j = 0; j <= v.length(); j++) {
                boolean end = j == v.length();
                char c = end ? 0 : v.charAt(j);
                boolean separator = end || (surrogate ? c == ' ' || c == '\t' : c == ',');
                if (separator) {
                    String tag = v.substring(start, j).trim();
                    if (!tag.isEmpty() && tag.length() <= MAX_TAG_LENGTH) {
                        if (out == null) {
                            out = new LinkedHashSet<>();
                        }
                        if (out.size() < MAX_TAGS) {
                            out.add(tag);
                        }
                    }
                    start = j + 1;
                }
            }
        }
        return out == null ? List.of() : List.copyOf(new ArrayList<>(out));
    }
}
