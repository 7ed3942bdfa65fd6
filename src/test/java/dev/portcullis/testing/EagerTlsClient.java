package dev.portcullis.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client that sends its ClientHello right behind its CONNECT, in the same flush, without waiting for
 * {@code 200 Connection established} (as some clients do to save a round trip): the proxy must hold those bytes and
 * put them through its own TLS. The 200's head is taken off the stream before the client's TLS sees it.
 */
public final class EagerTlsClient {
    private EagerTlsClient() {
    }

    /** CONNECT host:port and a ClientHello at once, then {@code request} over TLS; everything answered until close. */
    public static String get(int proxyPort, String host, int port, X509Bundle trustedCa, String request)
            throws Exception {
        SslContext tls = SslContextBuilder.forClient().trustManager(trustedCa.getCertificate()).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        CompletableFuture<String> answer = new CompletableFuture<>();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            SslHandler ssl = new SslHandler(tls.newEngine(c.alloc(), host, port), true);
                            c.pipeline().addLast(new SkipConnectAnswer(), ssl,
                                    new SimpleChannelInboundHandler<ByteBuf>() {
                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            if (evt instanceof SslHandshakeCompletionEvent e) {
                                                if (e.isSuccess()) {
                                                    ctx.writeAndFlush(Unpooled.copiedBuffer(request,
                                                            StandardCharsets.US_ASCII));
                                                } else {
                                                    answer.completeExceptionally(e.cause());
                                                }
                                            }
                                        }

                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                            byte[] b = new byte[msg.readableBytes()];
                                            msg.readBytes(b);
                                            got.writeBytes(b);
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            answer.complete(got.toString(StandardCharsets.ISO_8859_1));
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            answer.completeExceptionally(cause);
                                            ctx.close();
                                        }
                                    });
                        }
                    }).connect("127.0.0.1", proxyPort).sync().channel();
            // Through the SslHandler in startTls mode: this first write goes in clear, and the handshake (the
            // ClientHello) starts in the same flush.
            ch.writeAndFlush(Unpooled.copiedBuffer("CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host
                    + ":" + port + "\r\n\r\n", StandardCharsets.US_ASCII));
            return answer.get(15, TimeUnit.SECONDS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Drops the proxy's answer to the CONNECT (in clear, up to its empty line), then steps aside. */
    private static final class SkipConnectAnswer extends ByteToMessageDecoder {
        private final StringBuilder head = new StringBuilder();

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (in.isReadable()) {
                head.append((char) in.readByte());
                if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    if (!head.toString().startsWith("HTTP/1.1 200")) {
                        throw new IllegalStateException("CONNECT refused: " + head);
                    }
                    ctx.pipeline().remove(this); // what follows is TLS, passed on as it is
                    return;
                }
            }
        }
    }
}
