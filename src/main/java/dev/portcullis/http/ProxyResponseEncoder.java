package dev.portcullis.http;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The response encoder, told by the proxy when the response answers a HEAD request: such a response may
 * carry the headers of a body (Content-Length, Transfer-Encoding) but never the body or its last chunk.
 * (Netty's HttpServerCodec tracks this itself, but it is final and fuses the decoder we need to extend.)
 */
final class ProxyResponseEncoder extends HttpResponseEncoder implements ResponseFraming {
    private boolean headResponse;

    @Override
    public void headResponse(boolean value) {
        this.headResponse = value;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return headResponse || super.isContentAlwaysEmpty(msg);
    }
}
