package dev.portcullis.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.util.AsciiString;
import java.net.URI;
import java.util.Collection;

/**
 * The HTTP/1.1 Upgrade to h2c (RFC 7540 §3.2) on a plain listener, for the FIRST request of a connection only (as
 * curl --http2 sends it), between our HTTP/1 decoder and the {@link HttpProxyHandler}. Netty's upgrade handler does
 * the exchange (101, then HTTP/2 with the request as stream 1); this class decides which requests may upgrade
 * and is its "source codec": on upgrade our HTTP/1 handlers leave the pipeline.
 *
 * <p>An upgrade request is read whole before switching, so only small ones upgrade: no body or a Content-Length of
 * at most {@value #MAX_BODY} bytes, no chunked body, no {@code Expect}, a valid Host. Any other request with
 * {@code Upgrade: h2c} is served over HTTP/1.1 as if it had not asked (Upgrade is hop-by-hop and dropped), which
 * RFC 9110 §7.8 allows; this handler leaves the pipeline after the first request either way.
 */
final class H2cUpgrade extends HttpServerUpgradeHandler {
    static final int MAX_BODY = 16 * 1024;
    private static final AsciiString H2C = AsciiString.cached(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME.toString());

    H2cUpgrade(Channel ch, ListenerContext listener) {
        super(upgrade -> {
                    HttpPipelines.removeHttp1Handlers(upgrade);
                    upgrade.pipeline().addBefore(upgrade.name(), Http2ServerPipeline.LINGER, new Http2Linger());
                },
                protocol -> H2C.contentEqualsIgnoreCase(protocol)
                        ? new Codec(Http2ServerPipeline.upgradeCodec(ch, listener)) : null,
                MAX_BODY, DefaultHttpHeadersFactory.headersFactory(), DefaultHttpHeadersFactory.trailersFactory(),
                true);
    }

    @Override
    protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
        HttpHeaders h = req.headers();
        if (!req.decoderResult().isSuccess() || !h.containsValue(HttpHeaderNames.UPGRADE, H2C, true)
                || h.contains(HttpHeaderNames.EXPECT) || HttpUtil.isTransferEncodingChunked(req)) {
            return false;
        }
        long length;
        try {
            length = HttpUtil.getContentLength(req, 0L);
        } catch (NumberFormatException e) {
            return false; // the proxy handler refuses it with 400
        }
        return length <= MAX_BODY;
    }

    /**
     * Netty's h2c upgrade codec, plus what the request needs to survive its conversion to HTTP/2 headers: that
     * conversion takes :scheme and :authority only from an absolute-form target, so the origin-form target is made
     * absolute from Host (and the upgrade declined when that does not give a valid URI).
     */
    private record Codec(Http2ServerUpgradeCodec delegate) implements UpgradeCodec {
        @Override
        public Collection<CharSequence> requiredUpgradeHeaders() {
            return delegate.requiredUpgradeHeaders();
        }

        @Override
        public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest req, HttpHeaders headers) {
            String host = req.headers().get(HttpHeaderNames.HOST);
            if (host == null || !RequestChecks.isValidHost(host) || req.uri().isEmpty() || req.uri().charAt(0) != '/') {
                return false;
            }
            String absolute = "http://" + host + req.uri();
            try {
                URI.create(absolute);
            } catch (IllegalArgumentException e) {
                return false; // served over HTTP/1.1, where the request checks answer it
            }
            req.setUri(absolute);
            return delegate.prepareUpgradeResponse(ctx, req, headers);
        }

        @Override
        public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest req) {
            delegate.upgradeTo(ctx, req);
        }
    }
}
