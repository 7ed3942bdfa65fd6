package dev.portcullis.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Raw socket exchanges, for malformed input the JDK client refuses to send. */
public final class RawHttp {
    private RawHttp() {
    }

    /**
     * Sends the bytes, then reads until the server closes or {@code timeoutMillis} of silence.
     * @return everything the server sent, as ISO-8859-1 text
     */
    public static String exchange(int port, String request, int timeoutMillis) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMillis);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readAll(s.getInputStream());
        }
    }

    public static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // silence: return what arrived
        } catch (IOException e) {
            // reset by peer after the response: return what arrived
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** The status code of the first response in {@code text}, or -1. */
    public static int status(String text) {
        if (text.length() < 12 || !text.startsWith("HTTP/1.")) {
            return -1;
        }
        return Integer.parseInt(text.substring(9, 12));
    }
}
