package dev.portcullis.l4.socks;

import dev.portcullis.forward.HostSyntax;
import dev.portcullis.http.ForwardRuntime;
import dev.portcullis.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequest;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * A SOCKS5 CONNECT from its destination to a connected socket, through the same rules as the HTTP forward proxy
 * ({@link ForwardRuntime}): a name is read as browsers read hosts and checked against the domain lists, resolved
 * asynchronously, and every address is judged by the destination guard; an address is checked against the domain
 * lists' address entries and the guard. The connection is made to exactly the address that was checked.
 */
final class SocksConnect {

    /** How the CONNECT ended; called once, on the client's event loop. */
    interface Outcome {
        /** @param address the checked address connected to */
        void connected(Channel upstream, InetSocketAddress address);

        /**
         * @param rule a fixed token for {@code portcullis_forward_denied_total} when a rule refused the destination
         *             (domain, private, dns); null when the destination could not be reached
         * @param why  says what happened, for the log
         */
        void refused(Socks5CommandStatus status, String rule, String why);
    }

    private SocksConnect() {
    }

    static void start(ForwardRuntime fwd, Socks5CommandRequest req, EventLoop loop, Transport transport,
                      Outcome out) {
        int port = req.dstPort();
        if (port == 0) {
            out.refused(Socks5CommandStatus.ADDRESS_UNSUPPORTED, null, "port 0 is not a destination");
            return;
        }
        ForwardRuntime.Destination d;
        if (req.dstAddrType().equals(Socks5AddressType.DOMAIN)) {
            String name = SocksAddresses.domain(req.dstAddr());
            if (name == null) {
                out.refused(Socks5CommandStatus.ADDRESS_UNSUPPORTED, null, "the destination name is not UTF-8");
                return;
            }
            d = fwd.destinationOf(name);
        } else {
            // IPv4 and IPv6: Netty wrote the four or sixteen bytes as address text
            d = fwd.destinationOf(NetUtil.createInetAddressFromIpAddressString(req.dstAddr()));
        }
        if (d instanceof ForwardRuntime.BadHost bad) {
            out.refused(Socks5CommandStatus.ADDRESS_UNSUPPORTED, null, bad.message());
        } else if (d instanceof ForwardRuntime.Denied denied) {
            out.refused(Socks5CommandStatus.FORBIDDEN, denied.rule(), denied.message());
        } else if (d instanceof ForwardRuntime.Literal literal) {
            guarded(fwd, "destination " + HostSyntax.canonicalText(literal.address()) + " is", port, List.of(literal.address()), loop, transport, out);
        } else {
            String name = ((ForwardRuntime.Name) d).name();
            Future<List<InetAddress>> lookup = ForwardRuntime.dns(transport.datagramChannel()).resolveAll(name, loop);
            if (lookup.isDone()) {
                looked(fwd, name, port, lookup, loop, transport, out);
            } else {
                lookup.addListener(f -> looked(fwd, name, port, lookup, loop, transport, out));
            }
        }
    }

    private static void looked(ForwardRuntime fwd, String name, int port, Future<List<InetAddress>> lookup,
                               EventLoop loop, Transport transport, Outcome out) {
        if (!lookup.isSuccess()) {
            Throwable cause = lookup.cause();
            String why = cause instanceof UnknownHostException ? "no such host" : String.valueOf(cause.getMessage());
            out.refused(Socks5CommandStatus.HOST_UNREACHABLE, "dns", "cannot resolve '" + name + "': " + why);
            return;
        }
        guarded(fwd, "destination " + name + " resolves to", port, lookup.getNow(), loop, transport, out);
    }

    /**
     * The first address the guard allows is the one connected to.
     *
     * @param what "destination NAME resolves to" or "destination ADDRESS is", for the refusal
     */
    private static void guarded(ForwardRuntime fwd, String what, int port, List<InetAddress> addresses,
                                EventLoop loop, Transport transport, Outcome out) {
        String refusal = null;
        for (InetAddress a : addresses) {
            String rule = fwd.guard(a);
            if (rule == null) {
                connect(new InetSocketAddress(a, port), loop, transport, out);
                return;
            }
            refusal = rule;
        }
        out.refused(Socks5CommandStatus.FORBIDDEN, "private", what + " a " + refusal
                + " address (" + HostSyntax.canonicalText(addresses.get(0)) + "), which this proxy does not reach "
                + "(forward.deny_private_destinations)");
    }

    private static void connect(InetSocketAddress address, EventLoop loop, Transport transport, Outcome out) {
        ChannelFuture f = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) ForwardRuntime.CONNECT_TIMEOUT.toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(address);
        f.addListener(x -> {
            if (f.isSuccess()) {
                out.connected(f.channel(), address);
            } else {
                out.refused(status(f.cause()), null, "cannot connect to "
                        + HostSyntax.canonicalText(address.getAddress()) + ":" + address.getPort() + ": "
                        + (f.cause().getMessage() == null ? f.cause().toString() : f.cause().getMessage()));
            }
        });
    }

    /**
     * The RFC 1928 reply for a failed connect. The native transports report both "network unreachable" and "no
     * route to host" as a {@link NoRouteToHostException} without a message: both are host unreachable then.
     */
    static Socks5CommandStatus status(Throwable cause) {
        String m = cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
        if (cause instanceof ConnectTimeoutException) {
            return Socks5CommandStatus.TTL_EXPIRED;
        }
        if (m.contains("network is unreachable")) {
            return Socks5CommandStatus.NETWORK_UNREACHABLE;
        }
        if (cause instanceof NoRouteToHostException || m.contains("no route to host")
                || m.contains("host is unreachable")) {
            return Socks5CommandStatus.HOST_UNREACHABLE;
        }
        if (cause instanceof ConnectException && m.contains("refused")) {
            return Socks5CommandStatus.CONNECTION_REFUSED;
        }
        if (cause instanceof SocketException && m.contains("timed out")) { // ETIMEDOUT from the kernel
            return Socks5CommandStatus.TTL_EXPIRED;
        }
        return Socks5CommandStatus.FAILURE;
    }
}
