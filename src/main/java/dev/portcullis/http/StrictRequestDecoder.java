package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
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
 *
 * <p>After a WebSocket opening handshake ({@link WebSocketUpgrade#isRequest}) the decoder holds: whatever follows
 * stays undecoded in its buffer until the proxy knows the answer. On a 101 the decoder is removed and hands those
 * bytes on raw (they are WebSocket frames, not a next request); on any other answer {@link #resume} decodes them as
 * HTTP. Held bytes past {@link #HOLD_LIMIT} stop reading from the socket (a client should wait for the 101).
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
    /** Bytes held after an upgrade request beyond which reading from the client pauses until the answer. */
    static final int HOLD_LIMIT = 64 * 1024;

    /** Set when the head being read has an obs-fold; that request's head is then marked as failed (400). */
    private boolean obsFoldSeen;
    private boolean inHead = true;
    /** The last consumed header byte was LF (so the next one starts a line). */
    private boolean atLineStart = true;
    /** A non-empty line (the request line) has been seen in the current head. */
    private boolean sawLine;
    /** Set at the end of an upgrade request: nothing more is decoded until {@link #resume}. */
    private boolean held;
    /** The request being read is a WebSocket opening handshake: hold once it ends. */
    private boolean upgradeRequest;
    /** This decoder turned reading off at {@link #HOLD_LIMIT}; it turns it on again in {@link #resume}. */
    private boolean readsPaused;

    StrictRequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (held) {
            // Checked on every read: something else (the pipelining queue) may have turned reading on again.
            if (buffer.readableBytes() > HOLD_LIMIT && ctx.channel().config().isAutoRead()) {
                readsPaused = true;
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        int before = buffer.readerIndex();
        int outBefore = out.size();
        super.decode(ctx, buffer, out);
        if (!inHead) {
            for (int i = outBefore; i < out.size(); i++) {
                if (out.get(i) instanceof io.netty.handler.codec.http.LastHttpContent) {
                    endOfRequest();
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
                // after a WebSocket handshake or a CONNECT the bytes that follow may not be HTTP: held until the
                // answer says whether the connection switches
                upgradeRequest = m instanceof HttpRequest r && !obsFoldSeen
                        && (WebSocketUpgrade.isRequest(r) || HttpMethod.CONNECT.equals(r.method()));
                if (obsFoldSeen && m.decoderResult().isSuccess()) {
                    // Marked on the message itself, so a pipelined request never takes another one's verdict.
                    m.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
                            "obsolete line folding (obs-fold) in a header is not accepted")));
                }
            }
            if (o instanceof io.netty.handler.codec.http.LastHttpContent) {
                endOfRequest();
            }
        }
    }

    private void endOfRequest() {
        held = upgradeRequest;
        upgradeRequest = false;
        startHead();
    }

    /** True while bytes after an upgrade request wait for the upstream's answer. */
    boolean held() {
        return held;
    }

    /**
     * The bytes held after a CONNECT that the proxy answers with TLS of its own (intercept_tls): the start of the
     * client's handshake, taken out undecoded so they can go through TLS first. Null when there are none.
     */
    io.netty.buffer.ByteBuf takeHeld() {
        int n = actualReadableBytes();
        return held && n > 0 ? internalBuffer().readBytes(n) : null;
    }

    /** Bytes read from the client and not decoded yet: the start of a next request. */
    boolean hasBufferedBytes() {
        return actualReadableBytes() > 0;
    }

    /**
     * The upgrade did not happen: decode what came after it as HTTP, and read again. Called from its own task,
     * never from inside this decoder's read.
     */
    void resume(ChannelHandlerContext ctx) throws Exception {
        if (!held || ctx.isRemoved()) {
            return;
        }
        held = false;
        if (readsPaused) {
            readsPaused = false;
            ctx.channel().config().setAutoRead(true);
        }
        if (actualReadableBytes() > 0) {
            channelRead(ctx, Unpooled.EMPTY_BUFFER);
            channelReadComplete(ctx);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (held) {
            // Not the superclass's: with reads paused it would ask for more, as if a message were half read.
            discardSomeReadBytes();
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
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
