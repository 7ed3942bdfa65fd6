package dev.portcullis.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Request parts that arrived while an earlier exchange on the connection was still being answered (HTTP/1.1
 * pipelining). They wait here and are replayed in order once that exchange ends. Reading from the client
 * stops while too many wait, so the queue stays small.
 */
final class PipelinedRequests {
    private static final int MAX_WAITING = 32;

    private final Channel channel;
    private ArrayDeque<HttpObject> waiting;

    PipelinedRequests(Channel channel) {
        this.channel = channel;
    }

    boolean isEmpty() {
        return waiting == null;
    }

    void add(HttpObject o) {
        if (waiting == null) {
            waiting = new ArrayDeque<>();
        }
        waiting.add(o);
        if (waiting.size() >= MAX_WAITING) {
            channel.config().setAutoRead(false);
        }
    }

    /** Takes everything waiting (the caller replays it) and resumes reading. */
    ArrayDeque<HttpObject> takeAll() {
        ArrayDeque<HttpObject> all = waiting;
        waiting = null;
        channel.config().setAutoRead(true);
        return all;
    }

    void releaseAll() {
        if (waiting != null) {
            waiting.forEach(ReferenceCountUtil::release);
            waiting = null;
        }
    }
}
