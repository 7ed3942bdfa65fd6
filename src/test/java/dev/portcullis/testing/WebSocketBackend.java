package dev.portcullis.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A WebSocket echo server on Netty's {@link WebSocketServerProtocolHandler}. Every data frame is echoed as it
 * arrives (fragments stay fragments, nothing is aggregated); pings get pongs and a client's close gets its close
 * back. Text commands: {@code close-me} sends a close 4000 "server bye"; {@code abort} closes the TCP connection
 * without a close frame. HTTP requests to {@code /deny} are answered {@code 403 denied}, to {@code /plain}
 * {@code 200 plain}, instead of a handshake. The headers of every request are kept in {@link #requests}.
 */
public final class WebSocketBackend implements AutoCloseable {
    /** The head of each HTTP request received, as "METHOD URI" plus its headers. */
    public record Seen(String line, HttpHeaders headers) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    public final ConcurrentLinkedQueue<Seen> requests = new ConcurrentLinkedQueue<>();
    public final AtomicInteger openSockets = new AtomicInteger();

    public WebSocketBackend() throws InterruptedException {
        WebSocketServerProtocolConfig config = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .checkStartsWith(true)
                .handleCloseFrames(true)
                .sendCloseFrame(null) // "abort" must end the TCP connection without a close frame
                .decoderConfig(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(16 << 20).build())
                .build();
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        openSockets.incrementAndGet();
                        ch.closeFuture().addListener(f -> openSockets.decrementAndGet());
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                new Gate(), new WebSocketServerProtocolHandler(config), new Echo());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Records each request and answers the plain-HTTP paths itself. */
    private final class Gate extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest req)) {
                ctx.fireChannelRead(msg);
                return;
            }
            requests.add(new Seen(req.method() + " " + req.uri(), req.headers().copy()));
            String answer = req.uri().startsWith("/deny") ? "denied" : req.uri().startsWith("/plain") ? "plain" : null;
            if (answer == null) {
                ctx.fireChannelRead(msg);
                return;
            }
            req.release();
            DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    answer.equals("denied") ? HttpResponseStatus.FORBIDDEN : HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(answer, StandardCharsets.US_ASCII));
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
            ctx.writeAndFlush(res);
        }
    }

    private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame t && t.isFinalFragment()) {
                String text = t.text();
                if (text.equals("close-me")) {
                    ctx.writeAndFlush(new CloseWebSocketFrame(4000, "server bye"));
                    return;
                }
                if (text.equals("abort")) {
                    ctx.channel().close();
                    return;
                }
            }
            ctx.writeAndFlush(frame.retain());
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
