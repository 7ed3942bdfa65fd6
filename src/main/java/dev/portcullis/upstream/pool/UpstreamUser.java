package dev.portcullis.upstream.pool;

import io.netty.handler.codec.http.HttpObject;

/** Whoever is using an upstream connection for one request: it receives the connection's events. */
public interface UpstreamUser {
    void onUpstreamRead(HttpObject msg);

    void onUpstreamReadComplete();

    void onUpstreamWritabilityChanged(boolean writable);

    /** @param cause null for an orderly close by the peer */
    void onUpstreamClosed(Throwable cause);
}
