package dev.portcullis.forward;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A tunnel through a parent proxy: a TCP connection to the parent, {@code CONNECT host:port} on it (RFC 9110
 * section 9.3.6), and the parent's answer. {@code 200} makes the connection a tunnel to the destination; any other
 * answer is handed back whole (status, headers and a body of at most {@value #MAX_ANSWER_BODY} bytes), so the
 * client can be shown what the parent said.
 *
 * <p>Netty's {@code HttpProxyHandler} (netty-handler-proxy) does the same handshake but turns every answer but 200
 * into an exception without its body; this is the handshake with the body kept, on Netty's own HTTP codec.
 *
 * <p>The answer is awaited for at most the given timeout; the caller may {@link #cancel} earlier (its client left).
 * The callback runs once, on the event loop.
 */
public final class ParentTunnel extends ChannelInboundHandlerAdapter {
    /** The largest body of a refusal kept to show the client; a longer one fails the tunnel as a broken answer. */
    public static final int MAX_ANSWER_BODY = 64 * 1024;
    private static final int MAX_ANSWER_HEAD = 16 * 1024;

    /** What came of asking the parent. */
    public sealed interface Outcome {}

    /**
     * The parent answered {@code 200}: {@code channel} is a tunnel to the destination, with reading off. Its pipeline
     * still has the {@link HttpClientCodec}, which holds any bytes that came after the answer: the callback must
     * take the channel over before it returns, by adding its relay last and then removing the codec (which hands
     * those bytes to the relay), or close it.
     */
    public record Established(Channel channel) implements Outcome {}

    /** The parent refused (any status but 2xx): its answer, to be passed on. The connection is closed. */
    public record Refused(int status, HttpHeaders headers, byte[] body) implements Outcome {}

    /** The parent could not be reached ({@code cause} from the connect). */
    public record Unreachable(Throwable cause) implements Outcome {}

    /** The parent was reached but gave no usable answer; {@code why} is fit for a reply and a log line. */
    public record Failed(String why, boolean timedOut) implements Outcome {}

    private final String authority;
    private final String proxyAuthorization;
    private final Duration answerTimeout;
    private final Consumer<Outcome> callback;
    private Channel channel;
    private ScheduledFuture<?> timeout;
    private boolean done;

    private ParentTunnel(String authority, String proxyAuthorization, Duration answerTimeout,
                         Consumer<Outcome> callback) {
        this.authority = authority;
        this.proxyAuthorization = proxyAuthorization;
        this.answerTimeout = answerTimeout;
        this.callback = callback;
    }

    /**
     * A tunnel to {@code authority} ({@code host:port}, as the parent should read it), not started yet: register
     * whatever may {@link #cancel} it, then {@link #connect}.
     *
     * @param proxyAuthorization the {@code Proxy-Authorization} value for the parent, or null
     */
    public static ParentTunnel to(String authority, String proxyAuthorization, Duration answerTimeout,
                                  Consumer<Outcome> callback) {
        return new ParentTunnel(authority, proxyAuthorization, answerTimeout, callback);
    }

    /** Connects to the parent from {@code loop} (the client's, so the tunnel needs no locks) and asks it. */
    public void connect(EventLoop loop, Class<? extends Channel> channelType, InetSocketAddress parent,
                        Duration connectTimeout) {
        if (done) {
            return; // cancelled before it started
        }
        ChannelFuture f = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("parent-codec", new HttpClientCodec(4096, MAX_ANSWER_HEAD, 8192))
                                .addLast("parent-answer", new HttpObjectAggregator(MAX_ANSWER_BODY))
                                .addLast("parent-tunnel", ParentTunnel.this);
                    }
                })
                .connect(parent);
        channel = f.channel();
        f.addListener(x -> {
            if (done) {
                f.channel().close();
            } else if (!f.isSuccess()) {
                finish(new Unreachable(f.cause()));
            } else {
                ask();
            }
        });
    }

    /** Gives up (the client went away): the connection closes and the callback hears a failure. */
    public void cancel() {
        finish(new Failed("cancelled", false));
    }

    private void ask() {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, authority,
                Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, authority);
        if (proxyAuthorization != null) {
            req.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, proxyAuthorization);
        }
        channel.writeAndFlush(req).addListener(w -> {
            if (!w.isSuccess()) {
                finish(new Failed("could not send CONNECT: " + w.cause().getClass().getSimpleName(), false));
            }
        });
        timeout = channel.eventLoop().schedule(() -> finish(new Failed("no answer to CONNECT within "
                + answerTimeout.toMillis() + " ms", true)), answerTimeout.toNanos(), TimeUnit.NANOSECONDS);
        channel.config().setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpResponse res) || done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            int status = res.status().code();
            if (res.decoderResult().isFailure()) {
                finish(new Failed("malformed answer to CONNECT", false));
            } else if (status == 200) {
                // From here on the bytes are the destination's: the codec passes them on raw (it knows the
                // answer was to a CONNECT) and holds what it read already until it is removed by the new owner.
                ctx.channel().config().setAutoRead(false);
                ctx.pipeline().remove("parent-answer");
                ctx.pipeline().remove(this);
                finish(new Established(ctx.channel()));
            } else if (status < 300) {
                // 1xx would unpair the codec's request/answer bookkeeping; another 2xx is a tunnel whose framing
                // the codec does not know. Neither is sent by proxies in practice.
                finish(new Failed("answer " + status + " to CONNECT; only 200 opens a tunnel", false));
            } else {
                finish(new Refused(status, res.headers().copy(), ByteBufUtil.getBytes(res.content())));
            }
        } finally {
            res.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String why = cause instanceof TooLongFrameException || cause.getCause() instanceof TooLongFrameException
                ? "answer to CONNECT too large (head over " + MAX_ANSWER_HEAD / 1024 + " KiB or body over "
                        + MAX_ANSWER_BODY / 1024 + " KiB)"
                : "broken answer to CONNECT: " + cause.getClass().getSimpleName();
        finish(new Failed(why, false));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        finish(new Failed("closed the connection without answering the CONNECT", false));
        ctx.fireChannelInactive();
    }

    private void finish(Outcome outcome) {
        if (done) {
            return;
        }
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!(outcome instanceof Established) && channel != null) {
            channel.close();
        }
        callback.accept(outcome);
    }
}
