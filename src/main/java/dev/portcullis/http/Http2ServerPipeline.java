package dev.portcullis.http;

import dev.portcullis.config.Http2Settings;
import dev.portcullis.config.ListenerLimits;
import dev.portcullis.net.CoalescingFlush;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;

/**
 * The handlers of an HTTP/2 client connection (h2 by ALPN, h2c by prior knowledge or Upgrade): Netty's frame codec,
 * its multiplexer giving each stream a child channel ({@link Http2StreamInitializer}) whose flushes are coalesced
 * per event-loop round ({@link CoalescingFlush}), and the connection's own {@link Http2ConnectionGuard}.
 *
 * <p>The codec's flood limits, each answered with GOAWAY and the connection closed:
 * <ul>
 *   <li>rapid reset (CVE-2023-44487): at most {@value #MAX_RST_PER_WINDOW} RST_STREAM received per
 *   {@value #RST_WINDOW_SECONDS} s; and as many sent (streams we had to reset: "MadeYouReset", CVE-2025-55163);</li>
 *   <li>CONTINUATION flood (CVE-2024-27316): a header block is bounded by SETTINGS_MAX_HEADER_LIST_SIZE across its
 *   CONTINUATION frames, and at most {@value #MAX_SMALL_CONTINUATIONS} small CONTINUATION frames per block;</li>
 *   <li>SETTINGS / PING floods from a client that does not read our ACKs: at most {@value #MAX_QUEUED_CONTROL_FRAMES}
 *   control frames queued;</li>
 *   <li>empty DATA frames: at most {@value #MAX_EMPTY_DATA_FRAMES} in a row;</li>
 *   <li>HPACK bombs: decoded header lists are bounded by {@code limits.max_header_size} (the stream gets 431 and a
 *   reset; a block beyond 1.25 times it is a connection error), the dynamic table by the default 4 KiB.</li>
 * </ul>
 */
final class Http2ServerPipeline {
    static final int MAX_RST_PER_WINDOW = 200;
    static final int RST_WINDOW_SECONDS = 30;
    static final int MAX_SMALL_CONTINUATIONS = 16;
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    static final int MAX_EMPTY_DATA_FRAMES = 2;
    static final String LINGER = "h2-linger";

    private Http2ServerPipeline() {
    }

    /** After TLS with ALPN h2, or a clear-text connection that started with the HTTP/2 preface. */
    static void configure(ChannelPipeline p, ListenerContext listener) {
        Handlers h = handlers(p.channel(), listener);
        p.addLast(LINGER, new Http2Linger());
        p.addLast("h2", h.codec);
        p.addLast("h2-flush", h.flush);
        p.addLast("h2-streams", h.streams);
        p.addLast("h2-connection", h.guard);
    }

    /**
     * For the HTTP/1.1 Upgrade to h2c: Netty adds these handlers once the 101 response is written (the caller puts
     * an {@link Http2Linger} in front of them).
     */
    static Http2ServerUpgradeCodec upgradeCodec(Channel ch, ListenerContext listener) {
        Handlers h = handlers(ch, listener);
        return new Http2ServerUpgradeCodec(h.codec, h.flush, h.streams, h.guard);
    }

    private record Handlers(Http2FrameCodec codec, CoalescingFlush flush, Http2MultiplexHandler streams,
                            Http2ConnectionGuard guard) {
    }

    private static Handlers handlers(Channel ch, ListenerContext listener) {
        ListenerRuntime rt = listener.runtime();
        ListenerLimits limits = rt.limits();
        Http2Settings cfg = rt.config().http2();
        ClientAddress client = ClientAddress.of(ch.remoteAddress());
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(io.netty.handler.codec.http2.Http2Settings.defaultSettings()
                        .maxConcurrentStreams(cfg.maxConcurrentStreams())
                        .initialWindowSize(cfg.initialWindowSize())
                        .maxHeaderListSize(limits.maxHeaderSize()))
                .validateHeaders(true)
                // Drain and shutdown wait for the open streams; Portcullis's shutdown_timeout bounds the wait.
                .gracefulShutdownTimeoutMillis(-1)
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
                .encoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
                .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATIONS)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_EMPTY_DATA_FRAMES)
                .frameLogger(new Http2GoAwayLog(listener.name(), client))
                .build();
        Http2MultiplexHandler streams = new Http2MultiplexHandler(new Http2StreamInitializer(listener, client));
        return new Handlers(codec, new CoalescingFlush(), streams,
                new Http2ConnectionGuard(listener, codec, limits, cfg, client));
    }
}
