package dev.portcullis.http;

import dev.portcullis.config.Http2Settings;
import dev.portcullis.config.ListenerLimits;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection-level side of an HTTP/2 client connection, last in its pipeline (streams have their own
 * {@link HttpProxyHandler}):
 * <ul>
 *   <li>opens the connection's receive window to {@link Http2Settings#connectionWindowSize()} (the protocol starts
 *   it at 64 KiB whatever the SETTINGS say);</li>
 *   <li>timeouts: no first stream within header_read_timeout, or no open stream for idle_timeout: GOAWAY, then
 *   close;</li>
 *   <li>graceful drain ({@link #drain()}, on reload and shutdown): GOAWAY naming the last stream taken, the open
 *   streams finish, then the connection closes (Netty's Http2ConnectionHandler does this on close);</li>
 *   <li>other errors: logged and the connection closed (the GOAWAYs Netty sends are logged by
 *   {@link Http2GoAwayLog}).</li>
 * </ul>
 */
final class Http2ConnectionGuard extends ChannelDuplexHandler implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Http2ConnectionGuard.class);

    private final ListenerContext listener;
    private final Http2FrameCodec codec;
    private final ClientAddress client;
    private final long headerNanos;
    private final long idleNanos;
    private final int connectionWindow;
    private ChannelHandlerContext ctx;
    private boolean started;
    private boolean sawStream;
    /** When the connection last had no open stream. */
    private long idleSince;
    private ScheduledFuture<?> task;

    Http2ConnectionGuard(ListenerContext listener, Http2FrameCodec codec, ListenerLimits limits, Http2Settings http2,
                         ClientAddress client) {
        this.listener = listener;
        this.codec = codec;
        this.client = client;
        this.headerNanos = limits.headerReadTimeout().toNanos();
        this.idleNanos = limits.idleTimeout().toNanos();
        this.connectionWindow = http2.connectionWindowSize();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        idleSince = System.nanoTime();
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                sawStream = true;
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                idleSince = System.nanoTime();
            }
        });
        int delta = connectionWindow - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        if (delta > 0) {
            // A WINDOW_UPDATE on stream 0: Http2FrameCodec takes a stream-less one as the connection's.
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta)).addListener(f -> {
                if (!f.isSuccess() && ctx.channel().isActive()) {
                    log.debug("listener {}: client {}: connection window update failed: {}", listener.name(),
                            client.ip(), f.cause().toString());
                }
            });
        }
        arm(headerNanos);
    }

    private void arm(long delayNanos) {
        task = ctx.executor().schedule(this, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    /** The one timer of the connection: re-arms itself while streams are open, closes once idle for too long. */
    @Override
    public void run() {
        task = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        Http2Connection c = codec.connection();
        if (c.numActiveStreams() > 0) {
            arm(idleNanos);
            return;
        }
        long limit = sawStream ? idleNanos : headerNanos;
        long left = idleSince + limit - System.nanoTime();
        if (left > 0) {
            arm(left);
            return;
        }
        if (!sawStream) {
            listener.stats().requestRejected(408);
        }
        log.debug("listener {}: client {}:{}: HTTP/2 connection {} for {} ms; GOAWAY", listener.name(), client.ip(),
                client.port(), sawStream ? "idle" : "sent no request", limit / 1_000_000);
        ctx.close(); // through Http2FrameCodec: GOAWAY(NO_ERROR), then close
    }

    /** Graceful drain: GOAWAY now (last stream id = the highest taken), open streams finish, then close. */
    void drain() {
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Connection-level frames (SETTINGS, PING, GOAWAY, ...) the codec already acted on.
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http2Exception h2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        if (h2 != null) {
            // Netty answered it already (GOAWAY with this error, then close); Http2GoAwayLog logs that GOAWAY.
            log.debug("listener {}: client {}:{}: HTTP/2 connection error", listener.name(), client.ip(),
                    client.port(), h2);
        } else if (!(cause instanceof IOException)) {
            log.warn("listener {}: client {}:{}: {}", listener.name(), client.ip(), client.port(), cause.toString());
            ctx.close();
        }
    }
}
