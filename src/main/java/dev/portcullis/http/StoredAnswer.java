package dev.portcullis.http;

import dev.portcullis.cache.policy.CacheStatus;
import dev.portcullis.cache.policy.Conditionals;
import dev.portcullis.cache.policy.Ranges;
import dev.portcullis.cache.policy.StoredMeta;
import dev.portcullis.cache.store.AbortReason;
import dev.portcullis.cache.store.BodyReceiver;
import dev.portcullis.cache.store.BodySubscription;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a stored (or still filling) response to one exchange's client: the head through {@link ResponseWriter}
 * (so route response filters and compression apply to it as to an upstream response), then the body streamed from
 * the store by a subscription on the connection's event loop, pausing while the channel is not writable. The
 * client's own conditionals (304) and a single range (206, 416) are answered here from the stored response.
 */
final class StoredAnswer implements BodyReceiver {
    private static final Logger log = LoggerFactory.getLogger(StoredAnswer.class);

    /** Bytes of a stored body that may wait in the channel's outbound buffer before the delivery pauses. */
    static final int WRITE_AHEAD = 1024 * 1024;

    private final HttpProxyHandler client;
    private final Exchange ex;
    private BodySubscription sending;

    StoredAnswer(HttpProxyHandler client, Exchange ex) {
        this.client = client;
        this.ex = ex;
    }

    /**
     * A stored (complete) response answers this request: the client's own conditionals (304) and a single byte
     * range (206, or 416) are answered from it here.
     *
     * @param request the request's headers as the client sent them
     */
    void answer(StoredResponse r, HttpHeaders headers, StoredMeta sm, long now, CacheStatus status,
                        HttpHeaders request) {
        String method = ex.head ? "HEAD" : "GET";
        if (Conditionals.evaluate(method, request, sm) == Conditionals.Outcome.NOT_MODIFIED) {
            HttpHeaders h = Conditionals.notModifiedHeaders(headers);
            h.set(HttpHeaderNames.AGE, sm.ageSeconds(now));
            status.addTo(h);
            r.release();
            client.writer.head(ex, new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED, h),
                    false);
            client.onResponseContent(ex, LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        Ranges.Decision range = Ranges.decide(method, request, sm, r.bodyLength());
        if (range instanceof Ranges.Partial part) {
            headers.set(HttpHeaderNames.CONTENT_RANGE, part.contentRange());
            headers.set(HttpHeaderNames.CONTENT_LENGTH, part.size());
            send(r, HttpResponseStatus.PARTIAL_CONTENT, headers, sm, now, status, part.first(), part.last() + 1);
        } else if (range instanceof Ranges.Unsatisfiable u) {
            HttpHeaders h = new DefaultHttpHeaders();
            h.set(HttpHeaderNames.CONTENT_RANGE, u.contentRange());
            h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            h.set(HttpHeaderNames.AGE, sm.ageSeconds(now));
            status.addTo(h);
            r.release();
            client.writer.head(ex, new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, h), false);
            client.onResponseContent(ex, LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            send(r, headers, sm, now, status);
        }
    }

    /** Writes the stored head and streams the body; takes over the caller's reference on {@code r}. */
    void send(StoredResponse r, HttpHeaders headers, StoredMeta sm, long now, CacheStatus status) {
        ResponseMeta meta = r.meta();
        send(r, HttpResponseStatus.valueOf(meta.status(), meta.reason()), headers, sm, now, status, 0,
                Long.MAX_VALUE);
    }

    private void send(StoredResponse r, HttpResponseStatus code, HttpHeaders headers, StoredMeta sm, long now,
                      CacheStatus status, long from, long to) {
        ResponseMeta meta = r.meta();
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, code, headers);
        headers.set(HttpHeaderNames.AGE, sm.ageSeconds(now));
        status.addTo(headers);
        boolean bodyless = meta.status() == 204 || meta.status() == 304 || meta.status() < 200;
        boolean lengthUnknown = false;
        if (!bodyless && from == 0 && to == Long.MAX_VALUE) {
            if (r.body().isSealed()) {
                headers.set(HttpHeaderNames.CONTENT_LENGTH, r.bodyLength());
            } else if (!headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                lengthUnknown = !ex.head;
            }
        }
        client.writer.head(ex, res, lengthUnknown);
        if (ex.head || bodyless) {
            r.release();
            client.onResponseContent(ex, LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        BodySubscription sub = r.body().subscribe(client.ctx.executor(), this, from, to);
        r.release(); // the subscription holds its own
        if (!sub.isDone()) {
            sending = sub;
            if (client.ctx.channel().isWritable()) {
                // the flush at the end of the first batch may have made the channel writable again before
                // sending was set, and that event found nothing to resume
                sub.resume();
            }
        }
    }

    /**
     * Takes the next part of the stored body; false pauses the delivery until the client can take more.
     *
     * <p>A stored body is already in memory, and what is written of it are slices of the stored chunks, not copies:
     * on a plain connection without a transform, writing ahead of the socket costs no memory. There the delivery
     * goes on past the channel's high water mark (64 KiB) up to {@value #WRITE_AHEAD} bytes waiting, and a 256 KiB
     * object leaves in one flush, as nginx's sendfile does, instead of one flush and one writability event per
     * 64 KiB chunk. With TLS (each flush encrypts into new buffers), a transform (compression makes new buffers)
     * or HTTP/2 (flow control decides) it keeps to the channel's writability.
     */
    @Override
    public boolean onChunk(ByteBuf chunk) {
        client.timer.touch();
        if (client.onResponseContent(ex, new DefaultHttpContent(chunk))) {
            return true;
        }
        if (client.http2 || ex.tls().secure() || client.writer.transforming()) {
            return false;
        }
        ChannelOutboundBuffer out = client.ctx.channel().unsafe().outboundBuffer();
        return out != null && out.totalPendingWriteBytes() < WRITE_AHEAD;
    }

    @Override
    public void onBatchEnd() {
        client.flushIfNeeded();
    }

    @Override
    public void onComplete() {
        sending = null;
        client.onResponseContent(ex, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Override
    public void onAbort(AbortReason reason, long bytesDelivered) {
        sending = null;
        log.warn("listener {}: route {}: the response being stored was cut off ({}) after {} bytes to this client; "
                + "{} (request id {})", client.listener().name(), ex.route.name(), reason, bytesDelivered,
                client.http2 ? "resetting the client's HTTP/2 stream" : "closing the client connection",
                ex.requestId);
        client.flushIfNeeded();
        client.ctx.close();
    }

    /** The client can take more again. */
    void writable() {
        BodySubscription s = sending;
        if (s != null) {
            s.resume();
        }
    }

    /** The exchange is over: a delivery in progress stops (its reference on the body goes). */
    void cancel() {
        BodySubscription s = sending;
        sending = null;
        if (s != null) {
            s.cancel();
        }
    }
}
