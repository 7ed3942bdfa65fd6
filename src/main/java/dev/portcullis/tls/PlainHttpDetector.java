package dev.portcullis.tls;

import dev.portcullis.http.CannedResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of an https connection: looks at the first byte. A TLS record starts with 0x16 (handshake);
 * an HTTP request starts with the upper-case letter of its method. For the latter, a client was pointed at
 * {@code http://} on the TLS port: it gets a readable 400 in clear text (as nginx does) and the connection closes.
 * Anything else goes on to the TLS handler, which refuses it. Removes itself after the first byte.
 */
final class PlainHttpDetector extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(PlainHttpDetector.class);
    private static final byte[] RESPONSE = CannedResponse.closing("400 Bad Request",
            "plain HTTP request sent to an HTTPS port; use https://");

    private final String listener;
    private final HandshakeObserver observer;
    private boolean answered;

    PlainHttpDetector(String listener, HandshakeObserver observer) {
        this.listener = listener;
        this.observer = observer;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (answered) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (!in.isReadable()) {
            return;
        }
        byte first = in.getByte(in.readerIndex());
        if (first >= 'A' && first <= 'Z') {
            in.skipBytes(in.readableBytes());
            answered = true;
            observer.plainHttp();
            log.debug("listener {}: plain HTTP request from {} on the TLS port; answered 400", listener,
                    ctx.channel().remoteAddress());
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(RESPONSE)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // Removing a decoder hands the bytes it holds to the next handler.
        ctx.pipeline().remove(this);
    }
}
