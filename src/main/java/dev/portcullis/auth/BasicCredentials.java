package dev.portcullis.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A user name and password from {@code Proxy-Authorization: Basic ...} (RFC 7617) or a SOCKS5
 * username/password sub-negotiation (RFC 1929), checked for size and encoding before anything
 * looks at them. Both are UTF-8: bytes that are not are refused, not guessed at.
 */
public final class BasicCredentials {

    /** RFC 1929 caps both fields at 255 bytes; HTTP is held to the same for the user. */
    public static final int MAX_USER_BYTES = 255;
    /** Long enough for generated tokens used as passwords; bcrypt reads only the first 72 bytes. */
    public static final int MAX_PASSWORD_BYTES = 1024;
    /** A header value longer than this is refused before decoding. */
    public static final int MAX_HEADER_LENGTH = 4 * (MAX_USER_BYTES + 1 + MAX_PASSWORD_BYTES + 2) / 3 + 16;

    private BasicCredentials() {}

    public sealed interface Result permits Valid, Invalid {}

    /** A well-formed pair. The password is never printed by {@link #toString()}. */
    public record Valid(String user, String password) implements Result {
        @Override
        public String toString() {
            return "Valid[user=" + user + ", password=***]";
        }
    }

    /** Why the credentials were refused; never contains the credentials. */
    public record Invalid(String why) implements Result {}

    /** Parses a {@code Proxy-Authorization} (or {@code Authorization}) header value. */
    public static Result fromHeader(String value) {
        if (value == null) {
            return new Invalid("no credentials");
        }
        if (value.length() > MAX_HEADER_LENGTH) {
            return new Invalid("credentials too long");
        }
        String v = value.strip();
        int space = v.indexOf(' ');
        if (space < 0 || !v.substring(0, space).equalsIgnoreCase("Basic")) {
            return new Invalid("not the Basic scheme");
        }
        String token = v.substring(space + 1).strip();
        if (token.isEmpty()) {
            return new Invalid("empty Basic credentials");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            return new Invalid("Basic credentials are not valid base64");
        }
        int colon = -1;
        for (int i = 0; i < decoded.length; i++) {
            if (decoded[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon < 0) {
            return new Invalid("Basic credentials have no ':' between user and password");
        }
        return checked(ByteBuffer.wrap(decoded, 0, colon), ByteBuffer.wrap(decoded, colon + 1, decoded.length - colon - 1),
                MAX_PASSWORD_BYTES);
    }

    /** The UNAME and PASSWD fields of an RFC 1929 request. */
    public static Result fromSocks5(byte[] user, byte[] password) {
        return checked(ByteBuffer.wrap(user), ByteBuffer.wrap(password), 255);
    }

    private static Result checked(ByteBuffer user, ByteBuffer password, int maxPassword) {
        if (!user.hasRemaining()) {
            return new Invalid("empty user name");
        }
        if (user.remaining() > MAX_USER_BYTES) {
            return new Invalid("user name longer than " + MAX_USER_BYTES + " bytes");
        }
        if (password.remaining() > maxPassword) {
            return new Invalid("password longer than " + maxPassword + " bytes");
        }
        String u = utf8(user);
        String p = utf8(password);
        if (u == null || p == null) {
            return new Invalid("credentials are not UTF-8");
        }
        if (hasControl(u) || hasControl(p)) {
            return new Invalid("control characters in credentials");
        }
        return new Valid(u, p);
    }

    private static String utf8(ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** RFC 7617: neither part may contain control characters (it also keeps them out of logs). */
    private static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
                return true;
            }
        }
        return false;
    }
}
