package dev.portcullis.http.filters.compression;

import dev.portcullis.config.CompressConfig;
import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;
import dev.portcullis.observe.CompressionStats;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's {@code compress}: decides from the response head whether the body is compressed, and with which coding,
 * then rewrites the head and puts a streaming encoder on the exchange for the body ({@link Exchange#responseBodyTransform}).
 * Headers only for a HEAD request, so that it gets exactly the head a GET would.
 *
 * <p>The response is a candidate when it has a body (not 1xx, 204, 304), is not a range (206, Content-Range, or a
 * request with Range), is not encoded already (Content-Encoding other than identity), nobody said
 * {@code no-transform} (response or request Cache-Control), its media type is one of {@code types}, it is not gRPC,
 * and its Content-Length, when known, is at least {@code min_size}. A candidate always gets
 * {@code Vary: Accept-Encoding} (caches downstream must keep the variants apart, also when this client got identity);
 * when the client accepts one of the route's algorithms ({@link AcceptEncoding}), it also gets Content-Encoding, no
 * Content-Length (re-framed chunked, or DATA frames), no Accept-Ranges (ranges of the encoded body are not
 * served), and a weak ETag (the bytes differ from the identity body's; RFC 9110 §8.8.1).
 *
 * <p>Proxy-made replies (errors, redirects, {@code respond}) are small and sent as they are. The decision runs before
 * the route's {@code headers.response} operations, which may still change the head.
 */
public final class CompressionFilter implements HttpFilter {
    private static final Logger log = LoggerFactory.getLogger(CompressionFilter.class);
    private static final String ACCEPT_ENCODING = "Accept-Encoding";

    private final String route;
    private final Algorithm[] order;
    private final long minSize;
    private final MediaTypes types;
    private final CompressionStats stats;

    private CompressionFilter(String route, List<Algorithm> order, long minSize, List<String> types,
                              CompressionStats stats) {
        this.route = route;
        this.order = order.toArray(Algorithm[]::new);
        this.minSize = minSize;
        this.types = new MediaTypes(types);
        this.stats = stats;
    }

    /**
     * The route's filter, with the algorithms this machine can run; null when it can run none of them (warned).
     */
    public static CompressionFilter of(String route, CompressConfig config, CompressionStats stats) {
        return of(route, config, stats, Codecs.available());
    }

    static CompressionFilter of(String route, CompressConfig config, CompressionStats stats, Set<Algorithm> available) {
        List<Algorithm> usable = Codecs.usable(config.algorithms(), available);
        if (usable.isEmpty()) {
            log.warn("route {}: compress: none of {} is available on this machine; responses are sent as they are",
                    route, config.algorithms().stream().map(Algorithm::token).toList());
            return null;
        }
        return new CompressionFilter(route, usable, config.minSize(), config.types(), stats);
    }

    /** The route's algorithms that this machine runs, in the route's order. */
    public List<Algorithm> algorithms() {
        return List.of(order);
    }

    @Override
    public Phase phase() {
        return Phase.RESPONSE;
    }

    @Override
    public void onResponse(Exchange ex, HttpResponse res) {
        if (res instanceof FullHttpResponse || !candidate(ex.request(), res)) {
            return;
        }
        HttpHeaders h = res.headers();
        addVaryAcceptEncoding(h);
        Algorithm a = AcceptEncoding.choose(ex.request().headers().valueStringIterator(ACCEPT_ENCODING), order);
        if (a == null) {
            return;
        }
        if (!ex.isHead()) {
            BodyEncoder encoder;
            try {
                encoder = Codecs.encoder(a, ex.alloc(), stats);
            } catch (RuntimeException | LinkageError e) {
                log.warn("route {}: compress: {} encoder could not be created ({}); this response is sent as it is "
                        + "(request id {})", route, a.token(), e.toString(), ex.requestId());
                return;
            }
            ex.responseBodyTransform(encoder);
            stats.compressed(a);
        }
        h.set(HttpHeaderNames.CONTENT_ENCODING, a.token());
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        weakenEtag(h);
    }

    /** The rules of the class comment but Accept-Encoding: would this response be compressed for some client? */
    boolean candidate(HttpRequest req, HttpResponse res) {
        int code = res.status().code();
        if (code < 200 || code == 204 || code == 304 || code == 206) {
            return false;
        }
        HttpHeaders h = res.headers();
        HttpHeaders rh = req.headers();
        if (rh.contains(HttpHeaderNames.RANGE) || h.contains(HttpHeaderNames.CONTENT_RANGE)) {
            return false;
        }
        String encoding = h.get(HttpHeaderNames.CONTENT_ENCODING);
        if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
            return false;
        }
        if (!types.matches(h.get(HttpHeaderNames.CONTENT_TYPE)) || isGrpc(rh.get(HttpHeaderNames.CONTENT_TYPE))
                || noTransform(h) || noTransform(rh)) {
            return false;
        }
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            long n = parseLength(length);
            return n > 0 && n >= minSize;
        }
        return true;
    }

    private static long parseLength(String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean isGrpc(String requestType) {
        return requestType != null && requestType.regionMatches(true, 0, "application/grpc", 0, 16);
    }

    /** A {@code no-transform} directive in any Cache-Control line (directive names are case-insensitive). */
    static boolean noTransform(HttpHeaders h) {
        Iterator<String> it = h.valueStringIterator(HttpHeaderNames.CACHE_CONTROL);
        while (it.hasNext()) {
            String v = it.next();
            int i = 0;
            while (i < v.length()) {
                int end = v.indexOf(',', i);
                if (end < 0) {
                    end = v.length();
                }
                int s = i;
                while (s < end && (v.charAt(s) == ' ' || v.charAt(s) == '\t')) {
                    s++;
                }
                int e = end;
                int eq = v.indexOf('=', s);
                if (eq >= 0 && eq < e) {
                    e = eq;
                }
                while (e > s && (v.charAt(e - 1) == ' ' || v.charAt(e - 1) == '\t')) {
                    e--;
                }
                if (e - s == 12 && v.regionMatches(true, s, "no-transform", 0, 12)) {
                    return true;
                }
                i = end + 1;
            }
        }
        return false;
    }

    /**
     * Adds Accept-Encoding to Vary, as one merged line: unchanged when it is there already (any case) or when Vary is
     * {@code *} (which covers it).
     */
    static void addVaryAcceptEncoding(HttpHeaders h) {
        List<String> lines = h.getAll(HttpHeaderNames.VARY);
        if (lines.isEmpty()) {
            h.set(HttpHeaderNames.VARY, ACCEPT_ENCODING);
            return;
        }
        StringBuilder merged = new StringBuilder();
        for (String line : lines) {
            for (String field : line.split(",")) {
                String f = field.trim();
                if (f.equals("*") || f.equalsIgnoreCase(ACCEPT_ENCODING)) {
                    return;
                }
                if (!f.isEmpty()) {
                    merged.append(f).append(", ");
                }
            }
        }
        h.set(HttpHeaderNames.VARY, merged.append(ACCEPT_ENCODING).toString());
    }

    /** A strong validator becomes weak: {@code "x"} to {@code W/"x"}; weak ones stay. */
    static void weakenEtag(HttpHeaders h) {
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null) {
            String t = etag.trim();
            if (t.startsWith("\"")) {
                h.set(HttpHeaderNames.ETAG, "W/" + t);
            }
        }
    }
}
