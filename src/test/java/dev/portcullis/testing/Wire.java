package dev.portcullis.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 message reader for raw-socket tests: reads exactly one message (head, body framed by
 * Content-Length, chunked or close, and trailers) so a test can read several responses from one connection
 * or check the exact framing a peer used.
 */
public final class Wire {
    private Wire() {
    }

    /** One message: the start line, headers in order, the de-framed body, trailers, and how it was framed. */
    public record Message(String startLine, List<String[]> headers, byte[] body, List<String[]> trailers,
                          String framing) {
        public int status() {
            return Integer.parseInt(startLine.substring(9, 12));
        }

        public String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        public List<String> headerNames() {
            return headers.stream().map(h -> h[0].toLowerCase(Locale.ROOT)).toList();
        }

        public String trailer(String name) {
            for (String[] h : trailers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /** Reads one line ending in CRLF (or LF), without the line end; null at EOF before any byte. */
    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] a = b.toByteArray();
                int n = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
                return new String(a, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        if (b.size() == 0) {
            return null;
        }
        throw new EOFException("EOF in the middle of a line: " + b);
    }

    private static List<String[]> readFields(InputStream in) throws IOException {
        List<String[]> out = new ArrayList<>();
        String line;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            out.add(new String[] {line.substring(0, colon).trim(), line.substring(colon + 1).trim()});
        }
        if (line == null) {
            throw new EOFException("EOF in headers");
        }
        return out;
    }

    /** Reads a request (no body unless Content-Length or chunked). Null at a clean EOF. */
    public static Message readRequest(InputStream in) throws IOException {
        return read(in, false, false);
    }

    /**
     * Reads a response; {@code headRequest} says it answers HEAD (no body). 1xx responses are returned as
     * their own messages.
     */
    public static Message readResponse(InputStream in, boolean headRequest) throws IOException {
        return read(in, true, headRequest);
    }

    private static Message read(InputStream in, boolean response, boolean headRequest) throws IOException {
        String start = readLine(in);
        if (start == null) {
            return null;
        }
        List<String[]> headers = readFields(in);
        Message m = new Message(start, headers, new byte[0], List.of(), "none");
        String te = m.header("Transfer-Encoding");
        String cl = m.header("Content-Length");
        int status = response ? m.status() : 0;
        if (response && (headRequest || status / 100 == 1 || status == 204 || status == 304)) {
            return m;
        }
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in);
                if (size == null) {
                    throw new EOFException("EOF in chunked body");
                }
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (n == 0) {
                    break;
                }
                body.write(in.readNBytes(n));
                readLine(in);
            }
            List<String[]> trailers = readFields(in);
            return new Message(start, headers, body.toByteArray(), trailers, "chunked");
        }
        if (cl != null) {
            int n = Integer.parseInt(cl.trim());
            byte[] body = in.readNBytes(n);
            if (body.length < n) {
                throw new EOFException("EOF in body");
            }
            return new Message(start, headers, body, List.of(), "length");
        }
        if (response) {
            return new Message(start, headers, in.readAllBytes(), List.of(), "close");
        }
        return m;
    }
}
