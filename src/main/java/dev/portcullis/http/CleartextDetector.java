package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First in the pipeline of a plain {@code protocol: http} connection, in front of the HTTP/1 handlers: looks at the
 * first bytes once and steps aside.
 * <ul>
 *   <li>the HTTP/2 connection preface ({@code PRI * HTTP/2.0...}, h2c with prior knowledge): the HTTP/1 handlers
 *   make way for HTTP/2 ({@link Http2ServerPipeline}); with {@code http2.enabled: false}, a 400 and close;</li>
 *   <li>a TLS record (a ClientHello, {@code 0x16 0x03}): a warning naming the listener, then close; there is no
 *   HTTP answer a TLS client could read;</li>
 *   <li>anything else: HTTP/1, untouched (the bytes go on to the decoder as they came).</li>
 * </ul>
 * The HTTP/1 handlers are in place from the start, so their header_read_timeout also covers a client that sends
 * nothing, or stops in the middle of a preface.
 */
final class CleartextDetector extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(CleartextDetector.class);
    /** RFC 9113 §3.4. */
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte TLS_HANDSHAKE = 0x16;
    private static final byte TLS_MAJOR = 0x03;
    private static final byte[] H2_DISABLED = CannedResponse.closing("400 Bad Request",
            "HTTP/2 is off on this listener (http2.enabled: false)");

    private final ListenerContext listener;
    private final boolean http2;

    CleartextDetector(ListenerContext listener, boolean http2) {
        this.listener = listener;
        this.http2 = http2;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int n = in.readableBytes();
        if (in.getByte(start) == TLS_HANDSHAKE && (n < 2 || in.getByte(start + 1) == TLS_MAJOR)) {
            if (n < 2) {
                return; // one byte so far: wait for the second
            }
            ClientAddress c = ClientAddress.of(ctx.channel().remoteAddress());
            log.warn("listener {}: client {}:{}: TLS handshake on a plain http listener; use protocol: https",
                    listener.name(), c.ip(), c.port());
            in.skipBytes(n);
            ctx.close();
            return;
        }
        int preface = PREFACE.length;
        int compare = Math.min(n, preface);
        for (int i = 0; i < compare; i++) {
            if (in.getByte(start + i) != PREFACE[i]) {
                ctx.pipeline().remove(this); // HTTP/1: the bytes read so far go on to the decoder
                return;
            }
        }
        if (n < preface) {
            return; // a prefix of the preface so far
        }
        if (!http2) {
            in.skipBytes(n);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(H2_DISABLED)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        HttpPipelines.removeHttp1(ctx.pipeline());
        Http2ServerPipeline.configure(ctx.pipeline(), listener);
        ctx.pipeline().remove(this); // the preface and what follows go on to the HTTP/2 codec
    }
}
