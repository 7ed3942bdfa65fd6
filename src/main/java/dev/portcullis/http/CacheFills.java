package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheControl;
import dev.portcullis.cache.policy.StoreDecision;
import dev.portcullis.cache.policy.Storability;
import dev.portcullis.cache.policy.StoredMeta;
import dev.portcullis.cache.policy.Validation;
import dev.portcullis.cache.policy.VaryKey;
import dev.portcullis.cache.store.Fill;
import dev.portcullis.cache.store.HeaderList;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.VariantKeys;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How an upstream response goes into a {@link Fill}, for both kinds of fetch: a client's own (CacheFront) and a
 * background refresh (RefreshLeg). The policy decides ({@code cache.policy}); this turns its answers into stored
 * metadata.
 */
final class CacheFills {
    private CacheFills() {
    }

    /**
     * The upstream head of a fill's fetch: starts storing it, or ends the fill when it may not be stored.
     *
     * @param request     the request headers as the client sent them (Vary, Authorization, request no-store)
     * @param requestTime when the request went upstream (epoch millis)
     * @return null when the fill began storing; else why not (a Cache-Status detail token). The fill is ended then.
     */
    static String begin(Fill fill, String primaryKey, HttpHeaders request, CacheControl requestCc, long requestTime,
                        HttpResponse res) {
        long now = System.currentTimeMillis();
        int code = res.status().code();
        StoreDecision d = Storability.decide("GET", request, requestCc, code, res.headers(), requestTime, now);
        if (!(d instanceof StoreDecision.Store s)) {
            fill.uncacheable();
            return d.reason();
        }
        HeaderList stored = storedHeaders(res.headers(), s.stripFields());
        String variantKey = variants(request).variantKey(stored.joined("vary"));
        ResponseMeta meta = ResponseMeta.of(primaryKey, variantKey, code, res.status().reasonPhrase(), stored,
                requestTime, now);
        // false: ended by begin (too large); followers go upstream
        return fill.begin(meta, HttpUtil.getContentLength(res, -1L)) ? null : "too-large";
    }

    /** A 304's outcome: the fields to answer with, and whether the freshened response stays stored. */
    record Freshening(HttpHeaders headers, boolean stored) {}

    /**
     * A 304 answered the fill's revalidation of {@code fill.stale()}: the stored response is freshened (and its
     * followers get it), or, when the 304 forbids storing it, dropped (and its followers go upstream).
     *
     * @return the freshened header fields to answer with, or null when the 304's validator does not match the
     *         stored response (then the stored one is removed, and the fill is left open: fetch again without
     *         conditions and store that)
     */
    static Freshening freshen(Fill fill, HttpHeaders request, long requestTime, HttpHeaders notModified) {
        long now = System.currentTimeMillis();
        StoredResponse stale = fill.stale();
        Validation.Freshening f = Validation.on304(request, headersOf(stale.meta()), stale.meta().status(),
                notModified, requestTime, now);
        if (!(f instanceof Validation.Freshened fr)) {
            fill.removeStale(); // another representation now: the stored one may not be used again
            return null;
        }
        if (fr.decision() instanceof StoreDecision.Store s) {
            fill.freshen(stale.meta().freshened(storedHeaders(fr.headers(), s.stripFields()), requestTime, now));
            return new Freshening(fr.headers(), fill.freshenedStored());
        }
        String why = fr.decision().reason();
        if (why.equals("request-no-store") || why.equals("authorization")) {
            // this request's exchange may not be stored (section 5.2.1.5, 3.5): the stored response stays as it
            // was, untouched (dropping it would let any client evict entries)
            fill.uncacheable();
        } else {
            fill.dropStale(); // the origin forbids it now; this request is still answered from it (section 4.3.4)
        }
        return new Freshening(fr.headers(), false);
    }

    /** The variant key of a request under a stored response's Vary (the store calls it; see VariantKeys). */
    static VariantKeys variants(HttpHeaders request) {
        return vary -> vary.isEmpty() ? VaryKey.NONE : VaryKey.of(varyNames(vary), request);
    }

    private static List<String> varyNames(String joined) {
        DefaultHttpHeaders h = new DefaultHttpHeaders(false);
        h.add(HttpHeaderNames.VARY, joined);
        return VaryKey.names(h);
    }

    static HttpHeaders headersOf(ResponseMeta meta) {
        HttpHeaders h = new DefaultHttpHeaders(false);
        meta.headers().addTo(h);
        return h;
    }

    /**
     * What the policy needs of a stored response, parsed on its first use and kept with it (the stored metadata
     * keeps strings only, as the lower tiers write them).
     */
    static StoredMeta storedMeta(StoredResponse r) {
        return r.parsed(CacheFills::parse);
    }

    private static StoredMeta parse(ResponseMeta meta) {
        return StoredMeta.of(meta.status(), headersOf(meta), meta.requestTimeMillis(), meta.responseTimeMillis());
    }

    static HeaderList storedHeaders(HttpHeaders h, List<String> strip) {
        String[] pairs = new String[h.size() * 2];
        int n = 0;
        for (var it = h.iteratorCharSequence(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey().toString();
            if (strip.contains(name.toLowerCase(Locale.ROOT))) {
                continue;
            }
            if (n == pairs.length) {
                pairs = Arrays.copyOf(pairs, pairs.length * 2 + 2);
            }
            pairs[n++] = name;
            pairs[n++] = e.getValue().toString();
        }
        return HeaderList.of(n == pairs.length ? pairs : Arrays.copyOf(pairs, n));
    }
}
