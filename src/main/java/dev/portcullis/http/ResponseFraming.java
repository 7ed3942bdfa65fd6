package dev.portcullis.http;

/**
 * The part of a client connection's response encoding the proxy steers per response: whether the response in
 * progress answers a HEAD request (its headers may describe a body, but no body is sent). The HTTP/1 encoder
 * ({@link ProxyResponseEncoder}) and an HTTP/2 stream ({@link Http2StreamAdapter}) each implement it.
 */
interface ResponseFraming {
    void headResponse(boolean value);
}
