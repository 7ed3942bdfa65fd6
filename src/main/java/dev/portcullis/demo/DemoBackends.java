package dev.portcullis.demo;

import dev.portcullis.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The demo's backends: tiny HTTP servers that say which one answered and what they were asked. */
public final class DemoBackends implements AutoCloseable {
    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();

    private DemoBackends(EventLoopGroup group) {
        this.group = group;
    }

    public static DemoBackends start(Transport transport, String host, int... ports) {
        DemoBackends d = new DemoBackends(transport.newGroup(1, "demo-backend"));
        for (int i = 0; i < ports.length; i++) {
            String name = "backend-" + (i + 1);
            String address = host + ":" + ports[i];
            ServerBootstrap b = new ServerBootstrap().group(d.group).channel(transport.serverChannel())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                    new Answer(name, address));
                        }
                    });
            var f = b.bind(host, ports[i]).awaitUninterruptibly();
            if (!f.isSuccess()) {
                d.close();
                throw new IllegalStateException("demo backend cannot bind " + address + ": "
                        + f.cause().getMessage() + "; is another process using it?");
            }
            d.channels.add(f.channel());
        }
        return d;
    }

    @Override
    public void close() {
        channels.forEach(Channel::close);
        group.shutdownGracefully();
    }

    private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String name;
        private final String address;

        Answer(String name, String address) {
            this.name = name;
            this.address = address;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String text = "Hello from " + name + " (" + address + "): " + req.method() + " " + req.uri()
                    + " via " + req.headers().get("X-Forwarded-For", "-") + "\n";
            ByteBuf body = ctx.alloc().buffer().writeBytes(text.getBytes(StandardCharsets.UTF_8));
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            res.headers().set("X-Backend", name);
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
