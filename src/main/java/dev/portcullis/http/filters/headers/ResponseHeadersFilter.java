package dev.portcullis.http.filters.headers;

import dev.portcullis.config.HeadersConfig.HeaderOps;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;
import io.netty.handler.codec.http.HttpResponse;

/** {@code headers.response}: changes the response head the client receives. */
public final class ResponseHeadersFilter implements HttpFilter {
    private final CompiledHeaderOps ops;

    public ResponseHeadersFilter(HeaderOps ops) {
        this.ops = new CompiledHeaderOps(ops);
    }

    @Override
    public Phase phase() {
        return Phase.RESPONSE;
    }

    @Override
    public void onResponse(Exchange exchange, HttpResponse response) {
        ops.apply(response.headers(), exchange);
    }
}
