package dev.portcullis.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * The pipeline of one HTTP/2 stream (a child channel of the connection): Netty's codec turns its frames into the
 * HTTP/1 message objects the rest of the proxy speaks, then the same {@link HttpProxyHandler} as for HTTP/1 serves
 * the one request of the stream. Routing, filters, retries and upstream legs do not know it came as HTTP/2.
 */
final class Http2StreamInitializer extends ChannelInitializer<Http2StreamChannel> {
    private final ListenerContext listener;
    private final ClientAddress client;

    Http2StreamInitializer(ListenerContext listener, ClientAddress client) {
        this.listener = listener;
        this.client = client;
    }

    @Override
    protected void initChannel(Http2StreamChannel ch) {
        ChannelPipeline p = ch.pipeline();
        Http2StreamAdapter adapter = new Http2StreamAdapter();
        p.addLast("path-check", new Http2PathCheck());
        p.addLast("codec", new Http2StreamFrameToHttpObjectCodec(true));
        p.addLast("adapter", adapter);
        p.addLast("proxy", new HttpProxyHandler(listener, adapter, listener.runtime().limits(), client));
    }
}
