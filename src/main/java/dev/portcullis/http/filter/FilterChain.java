package dev.portcullis.http.filter;

import dev.portcullis.http.Exchange;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Comparator;
import java.util.List;

/** A route's filters sorted by phase once, when the config is compiled. */
public final class FilterChain {
    public static final FilterChain EMPTY = new FilterChain(List.of());

    private final HttpFilter[] requestFilters;
    private final HttpFilter[] responseFilters;

    public FilterChain(List<HttpFilter> filters) {
        List<HttpFilter> sorted = filters.stream().sorted(Comparator.comparing(HttpFilter::phase)).toList();
        this.requestFilters = sorted.stream().filter(f -> f.phase() != Phase.RESPONSE).toArray(HttpFilter[]::new);
        this.responseFilters = sorted.stream().filter(f -> f.phase() == Phase.RESPONSE).toArray(HttpFilter[]::new);
    }

    /** @return the first non-continue status, or CONTINUE */
    public FilterStatus onRequest(Exchange exchange) {
        for (HttpFilter f : requestFilters) {
            FilterStatus s = f.onRequest(exchange);
            if (s != FilterStatus.CONTINUE) {
                return s;
            }
        }
        return FilterStatus.CONTINUE;
    }

    public void onResponse(Exchange exchange, HttpResponse response) {
        for (HttpFilter f : responseFilters) {
            f.onResponse(exchange, response);
        }
    }
}
