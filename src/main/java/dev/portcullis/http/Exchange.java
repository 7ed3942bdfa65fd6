package dev.portcullis.http;

import dev.portcullis.http.filter.ResponseBodyTransform;
import dev.portcullis.http.router.RequestFacts;
import dev.portcullis.observe.AccessLogEntry;
import dev.portcullis.template.Placeholder;
import dev.portcullis.template.PlaceholderSource;
import dev.portcullis.tls.TlsInfo;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;

/**
 * The state of one request/response pair on a client connection: what was asked, which route and endpoint
 * serve it, and how far each direction has come. Created when the request head arrives, owned by the
 * connection's event loop, dropped after the access log entry is taken.
 */
public final class Exchange implements PlaceholderSource, RequestFacts {
    /** How a request that came over HTTP/2 is logged (its message object says HTTP/1.1, as Netty converts it). */
    static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

    final HttpProxyHandler client;
    final HttpRequest request;
    /** The target and version as received; the request object is changed in place for the upstream. */
    final String rawUri;
    /** {@link #rawUri} with credentials masked, for the access log; null when nothing was masked. */
    private String maskedUri;
    final HttpVersion version;
    private String requestLine;
    final long startNanos;
    final long startEpochMillis;
    final boolean head;
    String requestId;
    String host;
    String path;
    String query;
    /** Set by a route's auth ({@link #consumer()}). */
    private dev.portcullis.http.gateway.Consumer consumer;
    String upstreamPath;
    private Map<String, List<String>> queryParameters;
    CompiledRoute route;
    /** The upstream the request was sent to (for a split route, the one chosen); null when answered locally. */
    Upstream upstream;
    Endpoint endpoint;
    /** The upstream's sticky cookie as the client sent it (null: none, or no sticky); read before the first try. */
    String stickyCookie;
    int status;
    long bytesSent;
    long requestBodyBytes;
    boolean clientKeepAlive;
    boolean requestComplete;
    boolean responseStarted;
    boolean responseComplete;
    /** A WebSocket opening handshake on an HTTP/1.1 connection ({@link WebSocketUpgrade#isRequest}). */
    boolean upgrade;
    /**
     * A forward proxy's request that goes to a parent proxy: the target's {@code scheme://authority}, which the
     * upstream request keeps in front of the path (absolute-form, RFC 9112 section 3.2.2); null for origin-form.
     */
    String absolutePrefix;
    /** How the parent proxy a forward request goes through is named in replies ("parent proxy host:port"); else null. */
    String viaParent;
    /** A forward proxy's CONNECT: once established, a tunnel of raw bytes. */
    boolean connectTunnel;
    /** The rest of the request body is read and dropped (a local reply was sent before it ended). */
    boolean discardBody;
    /** The connection's TLS facts, looked up on first use; {@link TlsInfo#NONE} on a plain connection. */
    private TlsInfo tls;
    /** Set by a response filter for the response being written (compression); taken by the writer with the head. */
    private ResponseBodyTransform bodyTransform;

    Exchange(HttpProxyHandler client, HttpRequest request, long startNanos) {
        this.client = client;
        this.request = request;
        this.startNanos = startNanos;
        this.startEpochMillis = System.currentTimeMillis();
        this.head = "HEAD".equals(request.method().name());
        this.rawUri = request.uri();
        this.version = client.http2 ? HTTP_2 : request.protocolVersion();
    }

    /**
     * A GET of the same target with a copy of the request's headers, routed alike, for a background refresh of the
     * cache entry this request was answered from: the refresh changes the copy (filters, conditionals), never the
     * exchange being answered. It keeps the request id, so the logs tie the refresh to the request that caused it.
     */
    Exchange refreshCopy() {
        HttpRequest copy = new io.netty.handler.codec.http.DefaultHttpRequest(HttpVersion.HTTP_1_1,
                io.netty.handler.codec.http.HttpMethod.GET, rawUri, request.headers().copy());
        Exchange c = new Exchange(client, copy, System.nanoTime());
        c.requestId = requestId;
        c.host = host;
        c.path = path;
        c.query = query;
        c.upstreamPath = path;
        c.absolutePrefix = absolutePrefix;
        c.viaParent = viaParent;
        c.route = route;
        c.upstream = upstream;
        c.consumer = consumer;
        c.requestComplete = true;
        return c;
    }

    /** As received, before any rewrite (the URI is changed in place for the upstream); credentials masked. */
    String requestLine() {
        if (requestLine == null) {
            requestLine = request.method().name() + ' ' + loggedUri() + ' ' + version.text();
        }
        return requestLine;
    }

    /** The URI the access log shows: as received, but for the values {@link #maskQueryParameterInLog} masks. */
    private String loggedUri() {
        return maskedUri != null ? maskedUri : rawUri;
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public String path() {
        return path;
    }

    /** The path the upstream will see; rewrite filters change it. */
    public String upstreamPath() {
        return upstreamPath;
    }

    public void upstreamPath(String value) {
        this.upstreamPath = value;
    }

    public String requestId() {
        return requestId;
    }

    public CompiledRoute route() {
        return route;
    }

    /** The request is a HEAD: the response has the headers of a body, never the body. */
    public boolean isHead() {
        return head;
    }

    /** The client connection's allocator, for buffers written to it. */
    public ByteBufAllocator alloc() {
        return client.ctx.alloc();
    }

    /**
     * From a response filter's {@code onResponse}: the body of this response goes through {@code transform}. A
     * transform set before (by another filter) is abandoned: one body, one transform.
     */
    public void responseBodyTransform(ResponseBodyTransform transform) {
        ResponseBodyTransform old = bodyTransform;
        bodyTransform = transform;
        if (old != null && old != transform) {
            old.abandon();
        }
    }

    /** The writer takes the transform as it writes the head; from then on it is the writer's to end. */
    ResponseBodyTransform takeBodyTransform() {
        ResponseBodyTransform t = bodyTransform;
        bodyTransform = null;
        return t;
    }

    /** Who the request comes from once a route's {@code auth} accepted it; null before (or without auth). */
    public dev.portcullis.http.gateway.Consumer consumer() {
        return consumer;
    }

    public void consumer(dev.portcullis.http.gateway.Consumer c) {
        consumer = c;
    }

    /** The rate limit decision that let this request through, for its response's headers; null for none. */
    private dev.portcullis.http.gateway.LocalRateLimiter.Decision rateDecision;
    private String ratePolicy;

    public void rateLimit(dev.portcullis.http.gateway.LocalRateLimiter.Decision d, String policy) {
        rateDecision = d;
        ratePolicy = policy;
    }

    public dev.portcullis.http.gateway.LocalRateLimiter.Decision rateDecision() {
        return rateDecision;
    }

    public String ratePolicy() {
        return ratePolicy;
    }

    /** The event loop that owns this exchange (work finished elsewhere comes back through it). */
    public java.util.concurrent.Executor executor() {
        return client.ctx.executor();
    }

    /** The client's address as text, for rate limit keys and messages. */
    public String clientIp() {
        return client.address.ip();
    }

    /**
     * Removes every {@code name=...} parameter from the query that goes upstream (credentials in a query, such as
     * an API key); the rest of the query is kept as the client wrote it.
     */
    public void removeQueryParameter(String name) {
        if (query == null) {
            return;
        }
        StringBuilder kept = new StringBuilder(query.length());
        for (String part : query.split("&", -1)) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            if (QueryStringDecoder.decodeComponent(key).equals(name)) {
                continue;
            }
            if (kept.length() > 0) {
                kept.append('&');
            }
            kept.append(part);
        }
        query = kept.length() == 0 ? null : kept.toString();
        queryParameters = null;
    }

    /**
     * Masks the values of every {@code name=...} query parameter in the URI the access log shows (a credential, such
     * as an API key, must not end up in log files); the request itself is not changed.
     */
    /** Whether the raw query has a parameter named {@code name} (any position, no parameter count limit). */
    public boolean rawQueryMentions(String name) {
        String uri = rawUri;
        int q = uri.indexOf('?');
        if (q < 0) {
            return false;
        }
        for (String part : uri.substring(q + 1).split("&", -1)) {
            int eq = part.indexOf('=');
            if (QueryStringDecoder.decodeComponent(eq < 0 ? part : part.substring(0, eq)).equals(name)) {
                return true;
            }
        }
        return false;
    }

    public void maskQueryParameterInLog(String name) {
        String uri = loggedUri();
        int q = uri.indexOf('?');
        if (q < 0) {
            return;
        }
        StringBuilder out = new StringBuilder(uri.length()).append(uri, 0, q + 1);
        String[] parts = uri.substring(q + 1).split("&", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            if (i > 0) {
                out.append('&');
            }
            out.append(eq >= 0 && QueryStringDecoder.decodeComponent(key).equals(name) ? key + "=******" : part);
        }
        maskedUri = out.toString();
        requestLine = null;
    }

    @Override
    public Map<String, List<String>> queryParameters() {
        if (queryParameters == null) {
            queryParameters = query == null ? Map.of()
                    : QueryStringDecoder.builder().hasPath(false).semicolonIsNormalChar(true).build(query)
                            .parameters();
        }
        return queryParameters;
    }

    @Override
    public byte[] clientAddress() {
        return client.address.bytes();
    }

    /** The TLS session of the client connection (from the session, never from request headers). */
    TlsInfo tls() {
        TlsInfo t = tls;
        if (t == null) {
            t = TlsInfo.of(client.ctx.channel());
            tls = t;
        }
        return t;
    }

    String scheme() {
        return tls().secure() ? "https" : "http";
    }

    @Override
    public void append(Placeholder p, StringBuilder out) {
        switch (p) {
            case CLIENT_IP -> out.append(client.address.ip());
            case CLIENT_PORT -> out.append(client.address.port());
            case REQUEST_HOST -> appendOrDash(out, request.headers().get(HttpHeaderNames.HOST));
            case REQUEST_HOSTNAME -> appendOrDash(out, host == null || host.isEmpty() ? null : host);
            case REQUEST_METHOD -> out.append(request.method().name());
            case REQUEST_URI -> out.append(originalUri());
            case REQUEST_PATH -> out.append(path);
            case REQUEST_SCHEME -> out.append(scheme());
            case REQUEST_ID -> out.append(requestId);
            case REQUEST_LINE -> out.append(requestLine());
            case ROUTE_NAME -> appendOrDash(out, route == null ? null : route.name());
            case UPSTREAM_NAME -> appendOrDash(out, endpoint == null ? null : endpoint.upstreamName());
            case UPSTREAM_ADDRESS -> appendOrDash(out, endpoint == null ? null : endpoint.label());
            case RESPONSE_STATUS -> out.append(status);
            case DURATION_MS -> out.append((System.nanoTime() - startNanos) / 1_000_000);
            case CONSUMER_NAME -> appendOrDash(out, consumer == null ? null : consumer.name());
            // Empty, not "-", when absent: a header such as X-Client-Subject must not look like a name.
            case TLS_SNI -> out.append(tls().sni());
            case TLS_CLIENT_SUBJECT -> out.append(tls().clientSubject());
            case TLS_CLIENT_FINGERPRINT -> out.append(tls().clientFingerprint());
            case TLS_VERSION -> out.append(tls().version());
            case TLS_CIPHER -> out.append(tls().cipher());
        }
    }

    private static void appendOrDash(StringBuilder out, String value) {
        out.append(value == null || value.isEmpty() ? "-" : value);
    }

    /** The target as the client sent it (origin-form), before any rewrite. */
    String originalUri() {
        return query == null ? path : path + '?' + query;
    }

    AccessLogEntry toLogEntry(String listener, long endNanos) {
        return new AccessLogEntry(startEpochMillis, listener, client.address.ip(), client.address.port(),
                request.method().name(), loggedUri(), path, version.text(), scheme(),
                request.headers().get(HttpHeaderNames.HOST), requestId, route == null ? null : route.name(),
                endpoint == null ? (route == null ? null : route.upstreamName()) : endpoint.upstreamName(),
                endpoint == null ? null : endpoint.label(), status, bytesSent, requestBodyBytes,
                (endNanos - startNanos) / 1000,
                request.headers().get(HttpHeaderNames.USER_AGENT), request.headers().get(HttpHeaderNames.REFERER),
                tls().secure() ? tls() : null, consumer == null ? null : consumer.name());
    }
}
