package dev.portcullis.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/** After the TLS handshake of an https listener: the protocol ALPN chose (HTTP/1.1 when the client offered none). */
final class AlpnNegotiation extends ApplicationProtocolNegotiationHandler {
    private final ListenerContext listener;

    AlpnNegotiation(ListenerContext listener) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.listener = listener;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            // The codec sends its SETTINGS preface as it is added to the active connection.
            Http2ServerPipeline.configure(ctx.pipeline(), listener);
        } else {
            HttpPipelines.http1(ctx.pipeline(), listener);
            // The connection is already active: the new handlers missed channelActive.
            ctx.fireChannelActive();
        }
    }
}
