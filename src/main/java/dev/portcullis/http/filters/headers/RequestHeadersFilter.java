package dev.portcullis.http.filters.headers;

import dev.portcullis.config.HeadersConfig.HeaderOps;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;

/** {@code headers.request}: changes the request as the upstream will see it (after the proxy's own headers). */
public final class RequestHeadersFilter implements HttpFilter {
    private final CompiledHeaderOps ops;

    public RequestHeadersFilter(HeaderOps ops) {
        this.ops = new CompiledHeaderOps(ops);
    }

    @Override
    public Phase phase() {
        return Phase.REQUEST;
    }

    @Override
    public FilterStatus onRequest(Exchange exchange) {
        ops.apply(exchange.request().headers(), exchange);
        return FilterStatus.CONTINUE;
    }
}
