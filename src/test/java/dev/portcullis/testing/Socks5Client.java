package dev.portcullis.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A SOCKS5 client written out byte by byte (RFC 1928, RFC 1929), to send what real clients send and what they
 * never would. Each method writes one message and reads its reply.
 */
public final class Socks5Client implements AutoCloseable {
    public static final int NO_AUTH = 0x00;
    public static final int PASSWORD = 0x02;
    public static final int CONNECT = 0x01;
    public static final int BIND = 0x02;
    public static final int UDP_ASSOCIATE = 0x03;
    public static final int IPV4 = 0x01;
    public static final int DOMAIN = 0x03;
    public static final int IPV6 = 0x04;

    /** A reply to a request: REP, and BND.ADDR / BND.PORT. */
    public record Reply(int status, int addressType, byte[] address, int port) {}

    public final Socket socket;
    public final InputStream in;
    public final OutputStream out;

    private Socks5Client(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(5000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public static Socks5Client open(int port) throws IOException {
        return new Socks5Client(port);
    }

    /** The greeting; returns the method the proxy chose (0xFF: none acceptable). */
    public int greet(int... methods) throws IOException {
        out.write(greeting(methods));
        out.flush();
        byte[] r = readN(2);
        if (r[0] != 5) {
            throw new IOException("not a SOCKS5 method reply: version " + r[0]);
        }
        return r[1] & 0xFF;
    }

    /** RFC 1929; returns the status (0 is success). */
    public int auth(String user, String password) throws IOException {
        out.write(auth(user.getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8)));
        out.flush();
        byte[] r = readN(2);
        return r[1] & 0xFF;
    }

    public Reply connect(String ipOrName, int port) throws IOException {
        return request(CONNECT, ipOrName, port);
    }

    /** A request for an address or a name, as {@link #requestBytes(int, String, int)} writes it. */
    public Reply request(int command, String ipOrName, int port) throws IOException {
        out.write(requestBytes(command, ipOrName, port));
        out.flush();
        return readReply();
    }

    public Reply readReply() throws IOException {
        byte[] head = readN(4);
        if (head[0] != 5) {
            throw new IOException("not a SOCKS5 reply: version " + head[0]);
        }
        int type = head[3] & 0xFF;
        byte[] addr = switch (type) {
            case IPV4 -> readN(4);
            case IPV6 -> readN(16);
            case DOMAIN -> readN(readN(1)[0] & 0xFF);
            default -> throw new IOException("unknown address type in reply: " + type);
        };
        byte[] port = readN(2);
        return new Reply(head[1] & 0xFF, type, addr, ((port[0] & 0xFF) << 8) | (port[1] & 0xFF));
    }

    public static byte[] greeting(int... methods) {
        byte[] b = new byte[2 + methods.length];
        b[0] = 5;
        b[1] = (byte) methods.length;
        for (int i = 0; i < methods.length; i++) {
            b[2 + i] = (byte) methods[i];
        }
        return b;
    }

    public static byte[] auth(byte[] user, byte[] password) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(1);
        b.write(user.length);
        b.writeBytes(user);
        b.write(password.length);
        b.writeBytes(password);
        return b.toByteArray();
    }

    /**
     * A request: a dotted-quad IPv4 address or an IPv6 address as that address type, anything else (odd spellings
     * of addresses included) as a name.
     */
    public static byte[] requestBytes(int command, String ipOrName, int port) throws IOException {
        if (ipOrName.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")
                || ipOrName.contains(":")) {
            byte[] a = InetAddress.getByName(ipOrName).getAddress();
            if (ipOrName.contains(":") && a.length == 4) {
                // an IPv4-mapped IPv6 address: Java turns it into IPv4; send the 16 bytes the test wrote
                byte[] m = new byte[16];
                m[10] = (byte) 0xFF;
                m[11] = (byte) 0xFF;
                System.arraycopy(a, 0, m, 12, 4);
                a = m;
            }
            return requestBytes(command, a.length == 4 ? IPV4 : IPV6, a, port);
        }
        byte[] name = ipOrName.getBytes(StandardCharsets.UTF_8);
        byte[] field = new byte[1 + name.length];
        field[0] = (byte) name.length;
        System.arraycopy(name, 0, field, 1, name.length);
        return requestBytes(command, DOMAIN, field, port);
    }

    /** @param address the address field as sent: 4 or 16 bytes, or a length byte and a name */
    public static byte[] requestBytes(int command, int type, byte[] address, int port) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(5);
        b.write(command);
        b.write(0);
        b.write(type);
        b.writeBytes(address);
        b.write(port >> 8);
        b.write(port);
        return b.toByteArray();
    }

    public byte[] readN(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new EOFException("the proxy closed after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** Whether the proxy closes the connection (end of stream or reset) within the socket's read timeout. */
    public boolean closedByProxy() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
