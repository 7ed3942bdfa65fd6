package dev.portcullis.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A raw client connection that can tell whether the server closed it, and read one response at a time from a
 * kept-alive connection (Content-Length framing only).
 */
public final class RawExchange implements AutoCloseable {
    /** What came back: the bytes as ISO-8859-1, whether the server closed the connection, and how long it took. */
    public record Result(String text, boolean closed, long millis) {
        public int status() {
            return RawHttp.status(text);
        }

        public String body() {
            int i = text.indexOf("\r\n\r\n");
            return i < 0 ? "" : text.substring(i + 4);
        }

        /** The first value of a header of the first response, or null. */
        public String header(String name) {
            return RawExchange.header(text, name);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawExchange(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends the request, then reads until the server closes or {@code timeoutMillis} of silence. */
    public static Result send(int port, String request, int timeoutMillis) throws IOException {
        try (RawExchange c = new RawExchange(port)) {
            c.write(request);
            return c.readUntilClose(timeoutMillis);
        }
    }

    public void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads until EOF ({@code closed}) or until {@code timeoutMillis} pass without a byte. */
    public Result readUntilClose(int timeoutMillis) throws IOException {
        long start = System.nanoTime();
        socket.setSoTimeout(timeoutMillis);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        boolean closed = false;
        try {
            int n;
            while ((n = in.read(b)) >= 0) {
                buf.write(b, 0, n);
            }
            closed = true;
        } catch (SocketTimeoutException e) {
            closed = false;
        } catch (IOException e) {
            closed = true; // reset
        }
        return new Result(buf.toString(StandardCharsets.ISO_8859_1), closed, (System.nanoTime() - start) / 1_000_000);
    }

    /** Reads one response framed by Content-Length (the connection stays open). */
    public Result readResponse(int timeoutMillis) throws IOException {
        long start = System.nanoTime();
        socket.setSoTimeout(timeoutMillis);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                return new Result(buf.toString(StandardCharsets.ISO_8859_1), true, elapsed(start));
            }
            buf.write(c);
            String s = buf.toString(StandardCharsets.ISO_8859_1);
            if (s.endsWith("\r\n\r\n")) {
                String cl = header(s, "Content-Length");
                int len = cl == null ? 0 : Integer.parseInt(cl.trim());
                byte[] body = in.readNBytes(len);
                buf.write(body);
                return new Result(buf.toString(StandardCharsets.ISO_8859_1), body.length < len, elapsed(start));
            }
        }
    }

    private static long elapsed(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    static String header(String text, String name) {
        int end = text.indexOf("\r\n\r\n");
        String head = end < 0 ? text : text.substring(0, end);
        String prefix = name.toLowerCase(Locale.ROOT) + ":";
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
