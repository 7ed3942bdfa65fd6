package dev.portcullis.http;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.lb.Hashing;
import java.util.List;

/**
 * The consistent-hash key of a request, by the upstream's {@code hash_on}. A request without the header, cookie or
 * query parameter hashes on the client address, so such clients still stick to one endpoint.
 */
final class RequestHash {
    private RequestHash() {}

    static long of(Exchange ex, UpstreamConfig.HashOn on) {
        String value = null;
        if (on instanceof UpstreamConfig.HashOn.Header h) {
            value = ex.request.headers().get(h.name());
        } else if (on instanceof UpstreamConfig.HashOn.Cookie c) {
            value = Cookies.value(ex.request.headers(), c.name());
        } else if (on instanceof UpstreamConfig.HashOn.Query q) {
            List<String> v = ex.queryParameters().get(q.name());
            value = v == null || v.isEmpty() ? null : v.get(0);
        } else if (on instanceof UpstreamConfig.HashOn.Uri) {
            value = ex.originalUri();
        }
        return value == null ? Hashing.hash(ex.clientAddress()) : Hashing.hash(value);
    }
}
