package dev.portcullis.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.logging.LogLevel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's frame-logger hook, used for one frame only: every GOAWAY this proxy sends with an error (a flood limit, a
 * protocol error) is logged with the listener, the client and Netty's reason. Some limits (queued control frames:
 * SETTINGS/PING floods) are found on the write side, where no exception reaches the pipeline; this sees them all.
 * Every other frame is skipped at the cost of one boolean test.
 */
final class Http2GoAwayLog extends Http2FrameLogger {
    private static final Logger log = LoggerFactory.getLogger(Http2GoAwayLog.class);

    private final String listener;
    private final ClientAddress client;

    Http2GoAwayLog(String listener, ClientAddress client) {
        super(LogLevel.TRACE);
        this.listener = listener;
        this.client = client;
    }

    @Override
    public boolean isEnabled() {
        return false;
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode,
                          ByteBuf debugData) {
        if (direction == Direction.OUTBOUND && errorCode != Http2Error.NO_ERROR.code()) {
            Http2Error error = Http2Error.valueOf(errorCode);
            log.warn("listener {}: client {}:{}: HTTP/2 connection closed with GOAWAY {}: {}", listener, client.ip(),
                    client.port(), error == null ? Long.toString(errorCode) : error.name(),
                    debugData.toString(debugData.readerIndex(), debugData.readableBytes(), StandardCharsets.UTF_8));
        }
    }
}
