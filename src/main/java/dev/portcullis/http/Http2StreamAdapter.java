package dev.portcullis.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import java.util.List;

/**
 * Sits in an HTTP/2 stream's pipeline between Netty's frame-to-HTTP/1 codec and the {@link HttpProxyHandler}, and
 * fixes what that conversion leaves HTTP/2-shaped:
 * <ul>
 *   <li>request: the codec's own extension headers ({@code x-http2-stream-id}, {@code x-http2-scheme}, ...) never
 *   reach the upstream, whoever set them; {@code :authority} and a Host header with the same value become one Host
 *   (RFC 9113 §8.3.1; two different ones stay two, which the request checks refuse);</li>
 *   <li>response: a response without content (to HEAD, 204, 304) goes out as one HEADERS frame with END_STREAM and
 *   no DATA frame, whatever body bytes the proxy-made reply carries.</li>
 * </ul>
 */
final class Http2StreamAdapter extends ChannelDuplexHandler implements ResponseFraming {
    private static final CharSequence[] EXTENSION_HEADERS = {
        ExtensionHeaderNames.STREAM_ID.text(), ExtensionHeaderNames.SCHEME.text(), ExtensionHeaderNames.PATH.text(),
        ExtensionHeaderNames.STREAM_PROMISE_ID.text(), ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text(),
        ExtensionHeaderNames.STREAM_WEIGHT.text(),
    };

    private boolean headResponse;
    /** The head of a response without content, held until its end so both leave as one frame. */
    private HttpResponse heldHead;

    @Override
    public void headResponse(boolean value) {
        headResponse = value;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            HttpHeaders h = req.headers();
            for (CharSequence name : EXTENSION_HEADERS) {
                h.remove(name);
            }
            List<String> hosts = h.getAll(HttpHeaderNames.HOST);
            if (hosts.size() == 2 && hosts.get(0).equalsIgnoreCase(hosts.get(1))) {
                h.set(HttpHeaderNames.HOST, hosts.get(0));
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse res && res.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            boolean bodyless = headResponse || res.status().code() == 204 || res.status().code() == 304;
            if (!bodyless) {
                ctx.write(msg, promise);
            } else if (msg instanceof FullHttpResponse full && full.content().isReadable()) {
                // A proxy-made reply to HEAD: its headers describe the body, which is not sent.
                FullHttpResponse empty = full.replace(Unpooled.EMPTY_BUFFER);
                full.release();
                ctx.write(empty, promise);
            } else if (msg instanceof FullHttpResponse) {
                ctx.write(msg, promise);
            } else {
                heldHead = res;
                promise.trySuccess();
            }
            return;
        }
        if (heldHead != null && msg instanceof HttpContent c) {
            if (c instanceof LastHttpContent) {
                HttpResponse head = heldHead;
                heldHead = null;
                c.release();
                ctx.write(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), Unpooled.EMPTY_BUFFER,
                        head.headers(), io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE), promise);
            } else {
                c.release();
                promise.trySuccess();
            }
            return;
        }
        ctx.write(msg, promise);
    }
}
