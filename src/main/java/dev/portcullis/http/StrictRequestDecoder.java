package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.util.List;

/**
 * Netty's request decoder (already strict: CRLF only, no CL+TE, chunked last, valid names and values) plus the
 * one thing it accepts that a proxy must not: obs-fold, a header line continued on the next line with leading
 * whitespace (RFC 9112 §5.2). Netty joins such lines; two parsers disagreeing on them is a smuggling vector,
 * so the request is refused instead.
 *
 * <p>While a request head is being read, the bytes the decoder consumes are header bytes; this class looks at
 * them for CRLF followed by SP/HTAB before the empty line that ends the head. Body bytes are never scanned.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    /** Set when the head being read has an obs-fold; that request's head is then marked as failed (400). */
    private boolean obsFoldSeen;
    private boolean inHead = true;
    /** The last consumed header byte was LF (so the next one starts a line). */
    private boolean atLineStart = true;
    /** A non-empty line (the request line) has been seen in the current head. */
    private boolean sawLine;

    StrictRequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        int before = buffer.readerIndex();
        int outBefore = out.size();
        super.decode(ctx, buffer, out);
        if (!inHead) {
            for (int i = outBefore; i < out.size(); i++) {
                if (out.get(i) instanceof io.netty.handler.codec.http.LastHttpContent) {
                    startHead();
                }
            }
            return;
        }
        int after = buffer.readerIndex();
        scanHead(buffer, before, after);
        for (int i = outBefore; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof HttpMessage m) {
                inHead = false;
                if (obsFoldSeen && m.decoderResult().isSuccess()) {
                    // Marked on the message itself, so a pipelined request never takes another one's verdict.
                    m.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
                            "obsolete line folding (obs-fold) in a header is not accepted")));
                }
            }
            if (o instanceof io.netty.handler.codec.http.LastHttpContent) {
                startHead();
            }
        }
    }

    private void startHead() {
        inHead = true;
        obsFoldSeen = false;
        atLineStart = true;
        sawLine = false;
    }

    private void scanHead(ByteBuf buf, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = buf.getByte(i);
            if (atLineStart) {
                if (b == '\r' || b == '\n') {
                    if (sawLine && b == '\r') {
                        // Empty line: end of the head; later bytes in this range are body.
                        return;
                    }
                } else if ((b == ' ' || b == '\t') && sawLine) {
                    obsFoldSeen = true;
                    return;
                } else {
                    sawLine = true;
                }
            }
            atLineStart = b == '\n';
        }
    }
}
