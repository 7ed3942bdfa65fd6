package dev.portcullis.l4.socks;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import org.junit.jupiter.api.Test;

/**
 * The RFC 1928 reply for each way a connect fails, as the JDK (NIO) and Netty's native transports report them. The
 * refused connection is also shown end to end in {@link SocksProxyTest}; unreachable networks and timeouts cannot be
 * made on demand on a test machine, so their exceptions are written here as the transports throw them.
 */
class SocksReplyCodesTest {

    @Test
    void connectFailuresMapToTheirReplies() {
        assertThat(SocksConnect.status(new ConnectTimeoutException("connection timed out after 10000 ms: /192.0.2.1:80")))
                .isEqualTo(Socks5CommandStatus.TTL_EXPIRED);
        // epoll and io_uring: "finishConnect(..) failed with error(-111): Connection refused"
        assertThat(SocksConnect.status(new ConnectException("finishConnect(..) failed with error(-111): "
                + "Connection refused: /127.0.0.1:1"))).isEqualTo(Socks5CommandStatus.CONNECTION_REFUSED);
        assertThat(SocksConnect.status(new ConnectException("Connection refused")))
                .isEqualTo(Socks5CommandStatus.CONNECTION_REFUSED);
        // NIO: ENETUNREACH is a SocketException with the system's text
        assertThat(SocksConnect.status(new SocketException("Network is unreachable")))
                .isEqualTo(Socks5CommandStatus.NETWORK_UNREACHABLE);
        // NIO: EHOSTUNREACH; the native transports: both ENETUNREACH and EHOSTUNREACH, without a message
        assertThat(SocksConnect.status(new NoRouteToHostException("No route to host")))
                .isEqualTo(Socks5CommandStatus.HOST_UNREACHABLE);
        assertThat(SocksConnect.status(new NoRouteToHostException()))
                .isEqualTo(Socks5CommandStatus.HOST_UNREACHABLE);
        assertThat(SocksConnect.status(new ConnectException("connect(..) failed: Connection timed out")))
                .isEqualTo(Socks5CommandStatus.TTL_EXPIRED);
        assertThat(SocksConnect.status(new SocketException("Permission denied")))
                .isEqualTo(Socks5CommandStatus.FAILURE);
    }

    @Test
    void theAccessLogStatusMeansWhatTheReplyMeans() {
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.SUCCESS)).isEqualTo(200);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.FORBIDDEN)).isEqualTo(403);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.HOST_UNREACHABLE)).isEqualTo(502);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.CONNECTION_REFUSED)).isEqualTo(502);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.TTL_EXPIRED)).isEqualTo(504);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.COMMAND_UNSUPPORTED)).isEqualTo(501);
        assertThat(SocksSession.httpStatus(Socks5CommandStatus.ADDRESS_UNSUPPORTED)).isEqualTo(400);
    }
}
