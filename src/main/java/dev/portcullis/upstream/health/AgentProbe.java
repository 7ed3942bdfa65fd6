package dev.portcullis.upstream.health;

import dev.portcullis.net.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads the one line an agent sends on connect (HAProxy's agent-check): up to a newline or the agent's close,
 * at most {@link #MAX_LINE} bytes, within the timeout.
 */
final class AgentProbe extends ChannelInboundHandlerAdapter {
    static final int MAX_LINE = 512;

    private final ProbeCall call;
    private final byte[] line = new byte[MAX_LINE];
    private int length;

    private AgentProbe(ProbeCall call) {
        this.call = call;
    }

    static void run(EventLoop loop, Transport transport, InetSocketAddress agent, int timeoutMillis,
                    Consumer<ProbeResult> done) {
        ProbeCall call = new ProbeCall(done);
        call.connect(loop, transport, agent, timeoutMillis, p -> p.addLast(new AgentProbe(call)));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            while (buf.isReadable()) {
                byte b = buf.readByte();
                if (b == '\n') {
                    call.finish(true, text());
                    return;
                }
                if (length == MAX_LINE) {
                    call.finish(false, "sent more than " + MAX_LINE + " bytes without a newline");
                    return;
                }
                line[length++] = b;
            }
        } finally {
            buf.release();
        }
    }

    private String text() {
        int n = length;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == 0)) {
            n--;
        }
        return new String(line, 0, n, StandardCharsets.US_ASCII);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // An agent may close after its line without a newline: take what it sent.
        if (length > 0) {
            call.finish(true, text());
        } else {
            call.finish(false, "closed the connection without sending a line");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        call.finish(false, Failures.describe(cause));
    }
}
