package dev.portcullis.l4.socks;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.socksx.v5.Socks5AddressDecoder;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The address fields of SOCKS5 requests as Netty's codec reads them, and what Netty's text does not say exactly.
 *
 * <p>An address type other than IPv4, DOMAINNAME and IPv6 fails with {@link UnsupportedAddressType}, so the reply
 * can be X'08' (address type not supported, RFC 1928 section 6) rather than a general failure.
 *
 * <p>Netty reads a domain name and the RFC 1929 user name and password as {@code US_ASCII} text, one char per byte
 * (byte 0xC3 becomes U+00C3: nothing is lost). {@link #bytes} gives the bytes back, so that UTF-8 user names and
 * passwords (as in the htpasswd file) and international names are read as the UTF-8 they are, and bytes that are not
 * UTF-8 are refused instead of turned into something else. Should Netty ever decode lossily (U+FFFD), {@link #bytes}
 * says so (null) and the request is refused: the tests check a UTF-8 user name end to end.
 */
final class SocksAddresses implements Socks5AddressDecoder {
    static final SocksAddresses DECODER = new SocksAddresses();

    /** The request names an address type this proxy does not read. */
    static final class UnsupportedAddressType extends DecoderException {
        private static final long serialVersionUID = 1L;

        UnsupportedAddressType(Socks5AddressType type) {
            super("unsupported address type " + (type.byteValue() & 0xFF));
        }
    }

    private SocksAddresses() {
    }

    @Override
    public String decodeAddress(Socks5AddressType type, ByteBuf in) throws Exception {
        if (!type.equals(Socks5AddressType.IPv4) && !type.equals(Socks5AddressType.DOMAIN)
                && !type.equals(Socks5AddressType.IPv6)) {
            throw new UnsupportedAddressType(type);
        }
        return Socks5AddressDecoder.DEFAULT.decodeAddress(type, in);
    }

    /** The bytes of a field Netty decoded one char per byte; null when it holds a char that cannot be one byte. */
    static byte[] bytes(String field) {
        for (int i = 0; i < field.length(); i++) {
            if (field.charAt(i) > 0xFF) {
                return null;
            }
        }
        return field.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A domain name field as UTF-8 text; null when its bytes are not UTF-8. */
    static String domain(String field) {
        byte[] b = bytes(field);
        if (b == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
