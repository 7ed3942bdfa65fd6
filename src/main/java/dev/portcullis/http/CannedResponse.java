package dev.portcullis.http;

import java.nio.charset.StandardCharsets;

/**
 * A complete HTTP/1.1 response written as bytes before any HTTP handler exists on the connection (over
 * max_connections, plain HTTP on a TLS port, an h2c preface with HTTP/2 off): a short text body and
 * {@code Connection: close}, as the connection ends with it.
 */
public final class CannedResponse {
    private CannedResponse() {
    }

    /** @param statusLine such as {@code "503 Service Unavailable"}; the body starts with it too */
    public static byte[] closing(String statusLine, String message) {
        String body = statusLine + ": " + message + "\r\n";
        return ("HTTP/1.1 " + statusLine + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
    }
}
