package dev.portcullis.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.X509Bundle;
import io.netty.util.AsyncMapping;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * A Netty backend on 127.0.0.1 for upstream TLS and HTTP/2 tests: over TLS (ALPN h2 and/or http/1.1, or none:
 * HTTP/1.1; optionally requiring a client certificate from a CA) or h2c with prior knowledge. Requests of both
 * protocols meet the same handler, which answers by path:
 * <ul>
 *   <li>{@code /echo}: streams the request body back as it comes (backpressure both ways);</li>
 *   <li>{@code /download?size=N}: N bytes of {@link PatternStream}, streamed;</li>
 *   <li>{@code /upload}: reads the body, answers {@code COUNT CRC32HEX};</li>
 *   <li>{@code /trailers}: body "payload" and trailers {@code grpc-status: 0}, {@code x-checksum: 42};</li>
 *   <li>{@code /slow?ms=N}: answers after N ms;</li>
 *   <li>{@code /cacheable}: like the default answer, with {@code Cache-Control: max-age=60};</li>
 *   <li>anything else: {@code NAME PROTOCOL METHOD URI}.</li>
 * </ul>
 * It counts the connections it accepted and the most streams open at once, records each request (protocol,
 * headers as HTTP/1 sees them: {@code host} from {@code :authority}, {@code x-http2-scheme} from {@code :scheme})
 * and the SNI name of each TLS connection, and can end every connection gracefully (GOAWAY) with {@link #goAwayAll}.
 */
public final class H2Backend implements AutoCloseable {
    public record Seen(String protocol, String method, String uri, Map<String, List<String>> headers) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase());
            return v == null ? null : v.get(0);
        }
    }

    public final String name;
    public final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    /** SNI of each TLS connection ("" for none). */
    public final ConcurrentLinkedQueue<String> sniNames = new ConcurrentLinkedQueue<>();
    public final AtomicInteger connections = new AtomicInteger();
    public final AtomicInteger openStreams = new AtomicInteger();
    public final AtomicInteger maxOpenStreams = new AtomicInteger();
    public final AtomicInteger failedHandshakes = new AtomicInteger();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel server;

    public static final class Builder {
        private final String name;
        private X509Bundle cert;
        private X509Bundle clientCa;
        private List<String> alpn = List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
        private boolean h2c;
        private long maxConcurrentStreams = 1000;

        private Builder(String name) {
            this.name = name;
        }

        /** TLS with this certificate; ALPN h2 and http/1.1 unless {@link #alpn} says otherwise. */
        public Builder tls(X509Bundle cert) {
            this.cert = cert;
            return this;
        }

        /** Only these ALPN protocols; none: no ALPN (HTTP/1.1). */
        public Builder alpn(String... protocols) {
            this.alpn = List.of(protocols);
            return this;
        }

        /** Require a client certificate issued by this CA. */
        public Builder requireClientCert(X509Bundle ca) {
            this.clientCa = ca;
            return this;
        }

        /** HTTP/2 in clear text, prior knowledge. */
        public Builder h2c() {
            this.h2c = true;
            return this;
        }

        public Builder maxConcurrentStreams(long n) {
            this.maxConcurrentStreams = n;
            return this;
        }

        public H2Backend start() throws Exception {
            return new H2Backend(this);
        }
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    private H2Backend(Builder b) throws Exception {
        this.name = b.name;
        SslContext ssl = null;
        if (b.cert != null) {
            SslContextBuilder sb = SslContextBuilder.forServer(b.cert.getKeyPair().getPrivate(), b.cert.getCertificatePath())
                    .sslProvider(SslProvider.JDK);
            if (!b.alpn.isEmpty()) {
                sb.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, b.alpn));
            }
            if (b.clientCa != null) {
                sb.trustManager(b.clientCa.getCertificate()).clientAuth(ClientAuth.REQUIRE);
            }
            ssl = sb.build();
        }
        SslContext tls = ssl;
        Builder cfg = b;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        channels.add(ch);
                        if (tls == null) {
                            if (cfg.h2c) {
                                http2(ch.pipeline(), cfg, "h2c");
                            } else {
                                http1(ch.pipeline(), "http/1.1");
                            }
                            return;
                        }
                        AsyncMapping<String, SslContext> byName = (host, promise) -> {
                            sniNames.add(host == null ? "" : host);
                            return promise.setSuccess(tls);
                        };
                        ch.pipeline().addLast(new SniHandler(byName));
                        ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                            @Override
                            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                    http2(ctx.pipeline(), cfg, "h2");
                                } else {
                                    http1(ctx.pipeline(), "https/1.1");
                                }
                            }

                            @Override
                            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                                failedHandshakes.incrementAndGet();
                                ctx.close();
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private void http1(ChannelPipeline p, String protocol) {
        p.addLast(new HttpServerCodec(), new RequestHandler(protocol));
    }

    private void http2(ChannelPipeline p, Builder cfg, String protocol) {
        p.addLast(Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(cfg.maxConcurrentStreams))
                .gracefulShutdownTimeoutMillis(10_000)
                .build());
        p.addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new RequestHandler(protocol));
            }
        }));
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Connections open now. */
    public int openConnections() {
        return channels.size();
    }

    /** Ends every open connection gracefully: HTTP/2 ones with GOAWAY, letting their open streams finish. */
    public void goAwayAll() {
        channels.forEach(Channel::close);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One request (one HTTP/1.1 exchange at a time on a connection, or one HTTP/2 stream). */
    private final class RequestHandler extends ChannelInboundHandlerAdapter {
        private final String protocol;
        private String path;
        private boolean echo;
        private long received;
        private final CRC32 crc = new CRC32();
        private HttpRequest request;
        private boolean counted;

        RequestHandler(String protocol) {
            this.protocol = protocol;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest req) {
                    request = req;
                    received = 0;
                    crc.reset();
                    Map<String, List<String>> headers = new TreeMap<>();
                    for (String n : req.headers().names()) {
                        headers.put(n.toLowerCase(), req.headers().getAll(n));
                    }
                    seen.add(new Seen(protocol, req.method().name(), req.uri(), headers));
                    path = new QueryStringDecoder(req.uri()).path();
                    if (!counted) {
                        counted = true;
                        maxOpenStreams.accumulateAndGet(openStreams.incrementAndGet(), Math::max);
                    }
                    echo = path.equals("/echo");
                    if (echo) {
                        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        res.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                        ctx.write(res);
                    }
                }
                if (msg instanceof HttpContent c) {
                    ByteBuf content = c.content();
                    received += content.readableBytes();
                    byte[] bytes = new byte[content.readableBytes()];
                    content.getBytes(content.readerIndex(), bytes);
                    crc.update(bytes);
                    boolean last = c instanceof LastHttpContent;
                    if (echo) {
                        ctx.write(last ? new DefaultLastHttpContent(content.retain())
                                : new DefaultHttpContent(content.retain()));
                        if (!ctx.channel().isWritable()) {
                            ctx.channel().config().setAutoRead(false); // resumed when the client reads on
                        }
                        if (last) {
                            done();
                        }
                    } else if (last) {
                        respond(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done();
        }

        private void done() {
            if (counted) {
                counted = false;
                openStreams.decrementAndGet();
            }
        }

        private void respond(ChannelHandlerContext ctx) {
            QueryStringDecoder q = new QueryStringDecoder(request.uri());
            switch (path) {
                case "/slow" -> {
                    long ms = Long.parseLong(q.parameters().get("ms").get(0));
                    ctx.executor().schedule(() -> text(ctx, name + " " + protocol + " slow"), ms, TimeUnit.MILLISECONDS);
                }
                case "/upload" -> text(ctx, received + " " + Long.toHexString(crc.getValue()));
                case "/trailers" -> {
                    HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
                    res.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    ctx.write(res);
                    LastHttpContent last = new DefaultLastHttpContent(
                            Unpooled.copiedBuffer("payload", StandardCharsets.US_ASCII));
                    last.trailingHeaders().set("grpc-status", "0").set("x-checksum", "42");
                    ctx.writeAndFlush(last);
                    done();
                }
                case "/download" -> download(ctx, Long.parseLong(q.parameters().get("size").get(0)));
                case "/cacheable" -> text(ctx, name + " " + protocol + " " + request.method() + " " + request.uri(),
                        "max-age=60");
                default -> text(ctx, name + " " + protocol + " " + request.method() + " " + request.uri()
                        + (received > 0 ? " " + received : ""));
            }
        }

        private void text(ChannelHandlerContext ctx, String body) {
            text(ctx, body, null);
        }

        private void text(ChannelHandlerContext ctx, String body, String cacheControl) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            if (cacheControl != null) {
                res.headers().set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
            }
            HttpUtil.setContentLength(res, bytes.length);
            ctx.write(res);
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes)));
            done();
        }

        private void download(ChannelHandlerContext ctx, long size) {
            HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(res, size);
            ctx.write(res);
            new Object() {
                long sent;

                void more() {
                    while (sent < size && ctx.channel().isWritable()) {
                        int n = (int) Math.min(16 * 1024, size - sent);
                        byte[] chunk = new byte[n];
                        PatternStream.fill(sent, chunk, 0, n);
                        ByteBuf buf = Unpooled.wrappedBuffer(chunk);
                        sent += n;
                        ctx.write(sent == size ? new DefaultLastHttpContent(buf) : new DefaultHttpContent(buf));
                    }
                    ctx.flush();
                    if (sent < size) {
                        if (!ctx.channel().isActive()) {
                            return;
                        }
                        ctx.executor().schedule(this::more, 1, TimeUnit.MILLISECONDS);
                    } else {
                        done();
                    }
                }
            }.more();
        }
    }
}
