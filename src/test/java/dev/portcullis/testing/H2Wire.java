package dev.portcullis.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw HTTP/2 client over a plain socket (h2c with prior knowledge) that writes frames itself, byte by byte as
 * RFC 9113 §4 lays them out, so tests can send what no well-behaved client sends: floods, endless CONTINUATION,
 * bombs. HPACK comes from Netty's encoder and decoder (one pair per connection, as the tables are stateful).
 */
public final class H2Wire implements AutoCloseable {
    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int PING = 6;
    public static final int GOAWAY = 7;
    public static final int WINDOW_UPDATE = 8;
    public static final int CONTINUATION = 9;
    public static final int END_STREAM = 0x1;
    public static final int ACK = 0x1;
    public static final int END_HEADERS = 0x4;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** A frame as read: type, flags, stream id, payload, and for HEADERS the decoded headers. */
    public record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
        public boolean endStream() {
            return (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0;
        }

        /** The error code of a GOAWAY or RST_STREAM frame. */
        public long errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xFFL) << 24) | ((payload[at + 1] & 0xFF) << 16) | ((payload[at + 2] & 0xFF) << 8)
                    | (payload[at + 3] & 0xFF);
        }

        /** The last stream id of a GOAWAY frame. */
        public int lastStreamId() {
            return ((payload[0] & 0x7F) << 24) | ((payload[1] & 0xFF) << 16) | ((payload[2] & 0xFF) << 8)
                    | (payload[3] & 0xFF);
        }

        @Override
        public String toString() {
            return "Frame[type=" + type + ", flags=" + flags + ", stream=" + stream + ", length=" + payload.length + "]";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, 1 << 20);

    /** Connects and sends the preface and an empty SETTINGS frame. */
    public H2Wire(int port) throws IOException {
        this(port, 0);
    }

    /** @param receiveBuffer the socket's receive buffer size (small: a client that barely reads), 0 for the default */
    public H2Wire(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        out.write(PREFACE);
        frame(SETTINGS, 0, 0, new byte[0]);
        out.flush();
    }

    public Socket socket() {
        return socket;
    }

    /** Writes one frame (not flushed: the socket stream writes through). */
    public void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(frameBytes(type, flags, stream, payload));
    }

    /** One frame as bytes, to send several in a single write (the server then reads them in one go). */
    public static byte[] frameBytes(int type, int flags, int stream, byte[] payload) {
        byte[] head = new byte[9 + payload.length];
        int n = payload.length;
        head[0] = (byte) (n >>> 16);
        head[1] = (byte) (n >>> 8);
        head[2] = (byte) n;
        head[3] = (byte) type;
        head[4] = (byte) flags;
        head[5] = (byte) (stream >>> 24 & 0x7F);
        head[6] = (byte) (stream >>> 16);
        head[7] = (byte) (stream >>> 8);
        head[8] = (byte) stream;
        System.arraycopy(payload, 0, head, 9, payload.length);
        return head;
    }

    /** The HPACK block of these headers, with this connection's encoder. */
    public byte[] block(Http2Headers headers) throws Http2Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(1, headers, buf);
            byte[] b = new byte[buf.readableBytes()];
            buf.readBytes(b);
            return b;
        } finally {
            buf.release();
        }
    }

    /** A GET whose headers are not validated here, to send what a server must refuse. */
    public static Http2Headers unchecked(String path, String authority) {
        return new DefaultHttp2Headers(false).method("GET").scheme("http").path(path).authority(authority);
    }

    public static Http2Headers get(String path, String authority) {
        return new DefaultHttp2Headers().method("GET").scheme("http").path(path).authority(authority);
    }

    public void headers(int stream, Http2Headers headers, boolean endStream) throws IOException, Http2Exception {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(headers));
    }

    public void data(int stream, byte[] bytes, boolean endStream) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, stream, bytes);
    }

    public void rst(int stream, int errorCode) throws IOException {
        frame(RST_STREAM, 0, stream, int32(errorCode));
    }

    public void windowUpdate(int stream, int increment) throws IOException {
        frame(WINDOW_UPDATE, 0, stream, int32(increment));
    }

    /** Writes bytes as they are (frames built by the caller). */
    public void raw(byte[] bytes) throws IOException {
        out.write(bytes);
    }

    public void flush() throws IOException {
        out.flush();
    }

    public static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** The next frame (HEADERS decoded at once: the HPACK table is per connection), or null at EOF or reset. */
    public Frame read() throws IOException {
        Frame f = readRaw();
        if (f != null && f.type() == HEADERS) {
            try {
                return new Frame(f.type(), f.flags(), f.stream(), f.payload(), decode(f));
            } catch (Http2Exception e) {
                throw new IOException(e);
            }
        }
        return f;
    }

    private Frame readRaw() throws IOException {
        byte[] head = new byte[9];
        try {
            in.readFully(head);
        } catch (EOFException e) {
            return null;
        } catch (java.net.SocketException e) {
            return null; // reset by the server
        }
        int n = ((head[0] & 0xFF) << 16) | ((head[1] & 0xFF) << 8) | (head[2] & 0xFF);
        byte[] payload = new byte[n];
        in.readFully(payload);
        int stream = ((head[5] & 0x7F) << 24) | ((head[6] & 0xFF) << 16) | ((head[7] & 0xFF) << 8) | (head[8] & 0xFF);
        return new Frame(head[3] & 0xFF, head[4] & 0xFF, stream, payload, null);
    }

    /** Decodes a HEADERS frame's block (no padding or priority flags are used by the server). */
    private Http2Headers decode(Frame f) throws Http2Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(f.payload());
        try {
            return decoder.decodeHeaders(f.stream(), buf);
        } finally {
            buf.release();
        }
    }

    /** A whole response on one stream: its headers and body, read until END_STREAM or RST_STREAM. */
    public record Response(Http2Headers headers, byte[] body, List<Frame> frames, Frame reset) {
        public int status() {
            return headers == null ? -1 : Integer.parseInt(headers.status().toString());
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Frames read while waiting for another stream's response, in order. */
    private final List<Frame> backlog = new ArrayList<>();

    /**
     * Reads frames until the given stream ends. Frames of other streams read meanwhile are kept for their own
     * {@code response} call; {@link Response#frames()} lists this stream's frames and the connection's.
     */
    public Response response(int stream) throws IOException, Http2Exception {
        Http2Headers headers = null;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<Frame> frames = new ArrayList<>();
        int fromBacklog = 0;
        while (true) {
            Frame f;
            if (fromBacklog < backlog.size()) {
                f = backlog.get(fromBacklog);
                if (f.stream() != stream) {
                    fromBacklog++;
                    continue;
                }
                backlog.remove(fromBacklog);
            } else {
                f = read();
            }
            if (f == null) {
                throw new EOFException("connection closed before stream " + stream + " ended; frames: " + frames);
            }
            if (f.stream() != stream && f.stream() != 0) {
                backlog.add(f);
                fromBacklog = backlog.size();
                continue;
            }
            frames.add(f);
            if (f.type() == GOAWAY && f.lastStreamId() < stream) {
                throw new IOException("GOAWAY before stream " + stream + ": error " + f.errorCode());
            }
            if (f.stream() != stream) {
                continue;
            }
            if (f.type() == HEADERS) {
                Http2Headers h = f.headers();
                if (headers == null || headers.status() != null && headers.status().charAt(0) == '1') {
                    headers = h;
                }
            } else if (f.type() == DATA) {
                body.write(f.payload());
                if (f.payload().length > 0) {
                    windowUpdate(0, f.payload().length);
                    windowUpdate(stream, f.payload().length);
                    flush();
                }
            } else if (f.type() == RST_STREAM) {
                return new Response(headers, body.toByteArray(), frames, f);
            }
            if (f.endStream()) {
                return new Response(headers, body.toByteArray(), frames, null);
            }
        }
    }

    /**
     * Reads until the server sends GOAWAY or closes, for at most {@code millis}.
     *
     * @return the GOAWAY frame, or null if the connection ended without one
     */
    public Frame awaitGoAwayOrClose(long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        socket.setSoTimeout((int) Math.max(1, millis));
        try {
            while (System.currentTimeMillis() < deadline) {
                Frame f = read();
                if (f == null) {
                    return null;
                }
                if (f.type() == GOAWAY) {
                    return f;
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("neither GOAWAY nor close within " + millis + " ms");
        }
        throw new AssertionError("neither GOAWAY nor close within " + millis + " ms");
    }

    /** True when the server closed the connection (EOF or reset) within {@code millis}; frames before are dropped. */
    public boolean closedWithin(long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        socket.setSoTimeout((int) Math.max(1, millis));
        try {
            while (System.currentTimeMillis() < deadline) {
                if (read() == null) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
