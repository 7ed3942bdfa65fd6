package dev.portcullis.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.CRC32;

/**
 * A raw-socket HTTP/1.1 backend for large bodies, one thread per connection, keep-alive:
 * {@code GET /download?size=N[&mode=chunked|close]} streams N bytes of {@link PatternStream} with
 * Content-Length (default), chunked, or delimited by closing the connection;
 * {@code POST /upload} reads the body (Content-Length or chunked) counting and CRC32-ing it, never holding it,
 * and answers {@code COUNT CRC32HEX FRAMING}; {@code POST /upload?pause=MS} (Content-Length only) stops reading
 * for MS milliseconds after the first MiB.
 */
public final class StreamingBackend implements AutoCloseable {
    private static final byte[] CRLF = {'\r', '\n'};
    private final ServerSocket server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "streaming-backend");
        t.setDaemon(true);
        return t;
    });

    public StreamingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                pool.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSendBufferSize(1 << 20);
            s.setReceiveBufferSize(1 << 20);
            InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String[] lines = head.split("\r\n");
                String[] requestLine = lines[0].split(" ");
                Map<String, String> headers = new HashMap<>();
                for (int i = 1; i < lines.length; i++) {
                    int c = lines[i].indexOf(':');
                    headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
                }
                String method = requestLine[0];
                String uri = requestLine[1];
                CRC32 crc = new CRC32();
                long pauseMillis = uri.contains("pause=") ? Long.parseLong(uri.substring(uri.indexOf("pause=") + 6)) : 0;
                long count = readBody(in, headers, crc, pauseMillis);
                if (method.equals("GET") && uri.startsWith("/download")) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("size=(\\d+)").matcher(uri);
                    m.find();
                    long size = Long.parseLong(m.group(1));
                    String mode = uri.contains("mode=chunked") ? "chunked" : uri.contains("mode=close") ? "close" : "length";
                    String framing = switch (mode) {
                        case "chunked" -> "Transfer-Encoding: chunked\r\n";
                        case "close" -> "Connection: close\r\n";
                        default -> "Content-Length: " + size + "\r\n";
                    };
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] buf = new byte[1 << 16];
                    for (long p = 0; p < size; ) {
                        int n = (int) Math.min(buf.length, size - p);
                        PatternStream.fill(p, buf, 0, n);
                        if (mode.equals("chunked")) {
                            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write(buf, 0, n);
                        if (mode.equals("chunked")) {
                            out.write(CRLF);
                        }
                        p += n;
                    }
                    if (mode.equals("chunked")) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                    if (mode.equals("close")) {
                        return;
                    }
                } else {
                    byte[] body = (count + " " + Long.toHexString(crc.getValue()) + " "
                            + (headers.containsKey("content-length") ? "length" : headers.getOrDefault("transfer-encoding", "none")))
                            .getBytes(StandardCharsets.US_ASCII);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                }
            }
        } catch (IOException | RuntimeException e) {
            // connection gone
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1
                    : (c == '\r' ? 1 : 0);
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.substring(0, s.length() - 4);
    }

    private static long readBody(InputStream in, Map<String, String> headers, CRC32 crc, long pauseMillis)
            throws IOException {
        byte[] buf = new byte[1 << 16];
        if (pauseMillis > 0) {
            // Read the first MiB, then stop reading for a while: the proxy must stop reading its client.
            long first = readN(in, 1 << 20, buf, crc);
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return first + readN(in, Long.parseLong(headers.get("content-length")) - first, buf, crc);
        }
        if (headers.containsKey("content-length")) {
            return readN(in, Long.parseLong(headers.get("content-length")), buf, crc);
        }
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            long total = 0;
            while (true) {
                String sizeLine = readLine(in);
                int semi = sizeLine.indexOf(';');
                long size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers
                    }
                    return total;
                }
                total += readN(in, size, buf, crc);
                readLine(in);
            }
        }
        return 0;
    }

    private static long readN(InputStream in, long n, byte[] buf, CRC32 crc) throws IOException {
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("body ended early");
            }
            crc.update(buf, 0, r);
            left -= r;
        }
        return n;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        if (c < 0) {
            throw new IOException("eof in chunked body");
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
        pool.shutdownNow();
    }
}
