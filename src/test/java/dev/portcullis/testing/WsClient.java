package dev.portcullis.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * The JDK's {@link WebSocket} client with its events in a queue: each whole text message as {@code "text:..."},
 * each binary message as {@code "binary:<length>:<crc32 hex>"} (parts are counted and CRC'd as they come, never
 * kept), pongs as {@code "pong:..."}. Binary parts are also counted in {@link #binaryPartsSeen} as they arrive.
 * {@link #closed} completes with "code reason" on a close frame, or "error: ..." when the connection failed.
 */
public final class WsClient implements AutoCloseable {
    public final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    public final CompletableFuture<String> closed = new CompletableFuture<>();
    public volatile long binaryBytesSeen;
    public final WebSocket ws;

    private WsClient(URI uri) {
        Listener listener = new Listener();
        ws = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .buildAsync(uri, listener).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** Opens the WebSocket; throws (a CompletionException around a WebSocketHandshakeException...) if refused. */
    public static WsClient open(URI uri) {
        return new WsClient(uri);
    }

    public static URI uri(int port, String path) {
        return URI.create("ws://127.0.0.1:" + port + path);
    }

    public String next() throws InterruptedException {
        String e = events.poll(20, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no WebSocket event within 20 s; closed: " + closed.getNow("no"));
        }
        return e;
    }

    public void sendText(String text) {
        ws.sendText(text, true).orTimeout(20, TimeUnit.SECONDS).join();
    }

    public void sendBinary(byte[] data, boolean last) {
        ws.sendBinary(ByteBuffer.wrap(data), last).orTimeout(20, TimeUnit.SECONDS).join();
    }

    public String awaitClosed() throws Exception {
        return closed.get(20, TimeUnit.SECONDS);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        private final CRC32 crc = new CRC32();
        private long binaryLength;

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                events.add("text:" + text);
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            int n = data.remaining();
            crc.update(data);
            binaryLength += n;
            binaryBytesSeen += n;
            if (last) {
                events.add("binary:" + binaryLength + ":" + Long.toHexString(crc.getValue()));
                binaryLength = 0;
                crc.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            events.add("pong:" + StandardCharsets.UTF_8.decode(message));
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete("error: " + error);
        }
    }

    @Override
    public void close() {
        ws.abort();
    }
}
