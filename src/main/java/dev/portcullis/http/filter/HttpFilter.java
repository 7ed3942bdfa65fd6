package dev.portcullis.http.filter;

import dev.portcullis.http.Exchange;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One stage of a route's processing, built once per config from typed settings. Instances are shared by all
 * requests of the route and all event loops, so they hold no per-request state: that lives in the
 * {@link Exchange}.
 */
public interface HttpFilter {
    Phase phase();

    /** Runs before the request goes upstream; may change the outgoing request. */
    default FilterStatus onRequest(Exchange exchange) {
        return FilterStatus.CONTINUE;
    }

    /** Runs on the response head before it is sent to the client (also for proxy-made replies). */
    default void onResponse(Exchange exchange, HttpResponse response) {
    }
}
