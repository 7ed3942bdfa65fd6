package dev.portcullis.l4.socks;

import dev.portcullis.auth.BasicCredentials;
import dev.portcullis.auth.Htpasswd;
import dev.portcullis.http.ForwardRuntime;
import dev.portcullis.http.ListenerContext;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.http.RequestIds;
import dev.portcullis.l4.Relay;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.socksx.v4.DefaultSocks4CommandResponse;
import io.netty.handler.codec.socksx.v4.Socks4CommandRequest;
import io.netty.handler.codec.socksx.v4.Socks4CommandStatus;
import io.netty.handler.codec.socksx.v5.DefaultSocks5CommandResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5InitialResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5PasswordAuthResponse;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5AuthMethod;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequest;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.handler.codec.socksx.v5.Socks5CommandType;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequest;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequest;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthStatus;
import io.netty.handler.codec.socksx.v5.Socks5ServerEncoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client through the SOCKS5 handshake (RFC 1928), until its CONNECT becomes a {@link Relay}:
 * <ol>
 *   <li>greeting: the client offers methods; the proxy picks "no authentication" when {@code forward.auth} is not
 *       set, username/password (RFC 1929) when it is, or answers X'FF' (none acceptable) and closes;</li>
 *   <li>username/password, checked against the htpasswd file off the event loop;</li>
 *   <li>the request: CONNECT only (BIND and UDP ASSOCIATE are answered X'07', command not supported), its
 *       destination through the forward rules ({@link SocksConnect}), and a reply with the RFC 1928 code for what
 *       happened;</li>
 *   <li>after a success reply, this handler and the codecs leave the pipeline and the relay carries the bytes.</li>
 * </ol>
 * Netty's codecs bound every message (a greeting is at most 257 bytes, a request 262, a password request 513). The
 * listener's {@code header_read_timeout} bounds the time the client may take to send them, counted only while the
 * proxy waits for the client (not while it checks a password, resolves a name or connects). Bytes a client sends
 * before the reply to its CONNECT (optimistic data) are held, reading paused, up to {@value #MAX_EARLY_BYTES}, and
 * sent first once the tunnel is up.
 */
public final class SocksHandshake extends ChannelInboundHandlerAdapter implements SocksConnect.Outcome {
    private static final Logger log = LoggerFactory.getLogger(SocksHandshake.class);
    /** More than one read of optimistic data before the CONNECT reply is not a client we need to serve. */
    static final int MAX_EARLY_BYTES = 64 * 1024;

    private enum Phase { GREETING, PASSWORD, COMMAND, CONNECTING, DONE }

    private final ListenerContext listener;
    private final ForwardRuntime fwd;
    private final long idleNanos;
    private final SocksSession session;
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.GREETING;
    /** The user, once the password was right. */
    private String user;
    /** A password check is running; a request that arrives meanwhile waits in {@link #heldCommand}. */
    private boolean checkingPassword;
    private Socks5CommandRequest heldCommand;
    private final ArrayDeque<ByteBuf> early = new ArrayDeque<>(2);
    private int earlyBytes;
    /** What is left of header_read_timeout, and since when the proxy has been waiting for the client. */
    private long clientNanosLeft;
    private long waitingSince;
    private ScheduledFuture<?> timeout;

    SocksHandshake(ListenerContext listener, ListenerRuntime runtime, SocksSession session) {
        this.listener = listener;
        this.fwd = runtime.forward();
        this.idleNanos = runtime.limits().idleTimeout().toNanos();
        this.clientNanosLeft = runtime.limits().headerReadTimeout().toNanos();
        this.session = session;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        waitForClient();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase == Phase.DONE) {
            ReferenceCountUtil.release(msg); // the reply is out and the connection closing
        } else if (msg instanceof ByteBuf b) {
            early(b);
        } else if (msg instanceof Socks5InitialRequest r && phase == Phase.GREETING) {
            greeting(r);
        } else if (msg instanceof Socks5PasswordAuthRequest r && phase == Phase.PASSWORD) {
            password(r);
        } else if (msg instanceof Socks5CommandRequest r && phase == Phase.COMMAND && heldCommand == null) {
            if (checkingPassword) {
                heldCommand = r; // sent without waiting for the password's verdict: answered after it
            } else {
                command(r);
            }
        } else if (msg instanceof Socks4CommandRequest) {
            listener.stats().requestRejected(400);
            log.debug("listener {}: client {}: SOCKS4 request refused (only SOCKS5 is served)", listener.name(),
                    session.clientIp);
            end();
            ctx.writeAndFlush(new DefaultSocks4CommandResponse(Socks4CommandStatus.REJECTED_OR_FAILED))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            ReferenceCountUtil.release(msg);
            malformed("unexpected " + msg.getClass().getSimpleName());
        }
    }

    // ---- greeting and authentication ----

    private void greeting(Socks5InitialRequest r) {
        if (r.decoderResult().isFailure()) {
            malformed("malformed greeting: " + r.decoderResult().cause().getMessage());
            return;
        }
        Socks5AuthMethod wanted = fwd.users() == null ? Socks5AuthMethod.NO_AUTH : Socks5AuthMethod.PASSWORD;
        if (!r.authMethods().contains(wanted)) {
            if (wanted == Socks5AuthMethod.PASSWORD) {
                fwd.stats().denied("auth");
                log.info("listener {}: client {}: SOCKS5 client offers no username/password authentication "
                        + "(RFC 1929), which this proxy needs (forward.auth)", listener.name(), session.clientIp);
            } else {
                listener.stats().requestRejected(400);
                log.debug("listener {}: client {}: SOCKS5 client offers no method this proxy accepts ({})",
                        listener.name(), session.clientIp, r.authMethods());
            }
            end();
            ctx.writeAndFlush(new DefaultSocks5InitialResponse(Socks5AuthMethod.UNACCEPTED))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // The answer first: replacing the decoder hands it the bytes that followed the greeting, and a request
        // among them may be answered at once.
        ctx.writeAndFlush(new DefaultSocks5InitialResponse(wanted));
        if (wanted == Socks5AuthMethod.PASSWORD) {
            phase = Phase.PASSWORD;
            ctx.pipeline().replace(Socks5InitialRequestDecoder.class, "socks-password",
                    new Socks5PasswordAuthRequestDecoder());
        } else {
            phase = Phase.COMMAND;
            ctx.pipeline().replace(Socks5InitialRequestDecoder.class, "socks-request",
                    new Socks5CommandRequestDecoder(SocksAddresses.DECODER));
        }
    }

    private void password(Socks5PasswordAuthRequest r) {
        if (r.decoderResult().isFailure()) {
            listener.stats().requestRejected(400);
            log.debug("listener {}: client {}: malformed SOCKS5 username/password request: {}", listener.name(),
                    session.clientIp, r.decoderResult().cause().getMessage());
            authFailed(null);
            return;
        }
        byte[] u = SocksAddresses.bytes(r.username());
        byte[] p = SocksAddresses.bytes(r.password());
        BasicCredentials.Result creds = u == null || p == null
                ? new BasicCredentials.Invalid("credentials that cannot be read as bytes")
                : BasicCredentials.fromSocks5(u, p);
        if (!(creds instanceof BasicCredentials.Valid valid)) {
            authFailed(((BasicCredentials.Invalid) creds).why());
            return;
        }
        phase = Phase.COMMAND;
        checkingPassword = true;
        ctx.pipeline().replace(Socks5PasswordAuthRequestDecoder.class, "socks-request",
                new Socks5CommandRequestDecoder(SocksAddresses.DECODER));
        notWaitingForClient();
        ctx.channel().config().setAutoRead(false); // until the verdict; hashes are checked off the event loop
        CompletableFuture<Htpasswd.Outcome> check;
        try {
            check = fwd.users().checkAsync(valid.user(), valid.password(), ForwardRuntime.authExecutor());
        } catch (RejectedExecutionException e) {
            check = CompletableFuture.failedFuture(e);
        }
        check.whenComplete((outcome, err) -> ctx.executor().execute(() -> passwordChecked(valid.user(), outcome,
                err)));
    }

    private void passwordChecked(String name, Htpasswd.Outcome outcome, Throwable err) {
        checkingPassword = false;
        if (phase == Phase.DONE) {
            return; // the client went away meanwhile
        }
        if (err != null) {
            log.warn("listener {}: client {}: SOCKS5 password check not run: {}; too many checks are waiting "
                    + "(bcrypt is slow by design): give the proxy more CPU or lower the htpasswd cost",
                    listener.name(), session.clientIp, err.toString());
            authFailed(null);
            return;
        }
        if (outcome != Htpasswd.Outcome.OK) {
            authFailed("wrong user name or password for '" + name + "'");
            return;
        }
        user = name;
        ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.SUCCESS));
        if (heldCommand != null) {
            Socks5CommandRequest r = heldCommand;
            heldCommand = null;
            command(r);
        } else {
            waitForClient();
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** RFC 1929: a failure status, then the connection closes. @param why null when already logged */
    private void authFailed(String why) {
        if (why != null) {
            fwd.stats().denied("auth");
            log.info("listener {}: client {}: SOCKS5 authentication failed: {}", listener.name(), session.clientIp,
                    why);
        }
        end();
        ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.FAILURE))
                .addListener(ChannelFutureListener.CLOSE);
    }

    // ---- the request ----

    private void command(Socks5CommandRequest r) {
        if (r.decoderResult().isFailure()) {
            Throwable cause = r.decoderResult().cause();
            listener.stats().requestRejected(400);
            log.debug("listener {}: client {}: malformed SOCKS5 request: {}", listener.name(), session.clientIp,
                    cause.getMessage());
            // Netty's request refuses a name that IDNA refuses (empty labels, prohibited characters) with an
            // IllegalArgumentException: an address this proxy cannot read, as for HostSyntax's refusals.
            boolean badAddress = cause instanceof SocksAddresses.UnsupportedAddressType
                    || cause.getCause() instanceof IllegalArgumentException;
            reply(badAddress ? Socks5CommandStatus.ADDRESS_UNSUPPORTED : Socks5CommandStatus.FAILURE);
            return;
        }
        session.requestId = RequestIds.generate();
        session.method = r.type().equals(Socks5CommandType.CONNECT) ? "CONNECT"
                : r.type().equals(Socks5CommandType.BIND) ? "BIND"
                : r.type().equals(Socks5CommandType.UDP_ASSOCIATE) ? "UDP_ASSOCIATE"
                : "COMMAND_" + (r.type().byteValue() & 0xFF);
        session.host = r.dstAddr();
        session.port = r.dstPort();
        if (r.dstAddrType().equals(Socks5AddressType.DOMAIN)) {
            String name = SocksAddresses.domain(r.dstAddr());
            session.host = name == null ? "(not UTF-8)" : name;
        }
        if (!r.type().equals(Socks5CommandType.CONNECT)) {
            refused(Socks5CommandStatus.COMMAND_UNSUPPORTED, "command", session.method
                    + " is not supported (only CONNECT)");
            return;
        }
        phase = Phase.CONNECTING;
        notWaitingForClient();
        ctx.channel().config().setAutoRead(false); // what the client sends now waits for the tunnel
        SocksConnect.start(fwd, r, ctx.channel().eventLoop(),
                listener.pools().forLoop(ctx.channel().eventLoop()).transport(), this);
    }

    /** Optimistic data: bytes after a request, sent before its reply. Held for the tunnel, within a bound. */
    private void early(ByteBuf b) {
        earlyBytes += b.readableBytes();
        early.add(b);
        if (earlyBytes > MAX_EARLY_BYTES) {
            listener.stats().requestRejected(400);
            log.debug("listener {}: client {}: more than {} bytes sent before the SOCKS5 reply; closing",
                    listener.name(), session.clientIp, MAX_EARLY_BYTES);
            end();
            ctx.close();
        }
    }

    @Override
    public void refused(Socks5CommandStatus status, String rule, String why) {
        if (phase == Phase.DONE) {
            return;
        }
        if (rule != null) {
            fwd.stats().denied(rule);
            log.info("listener {}: client {}: refused SOCKS5 {} {} ({}): {} (request id {})", listener.name(),
                    session.clientIp, session.method, session.target(), rule, why, session.requestId);
        } else {
            log.debug("listener {}: client {}: SOCKS5 {} {} failed: {} (request id {})", listener.name(),
                    session.clientIp, session.method, session.target(), why, session.requestId);
        }
        session.log(listener, SocksSession.httpStatus(status), 0, 0);
        reply(status);
    }

    /** A failure reply (RFC 1928 section 6: the connection closes right after it). */
    private void reply(Socks5CommandStatus status) {
        end();
        ctx.writeAndFlush(new DefaultSocks5CommandResponse(status, Socks5AddressType.IPv4))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void connected(Channel upstream, InetSocketAddress address) {
        Channel client = ctx.channel();
        if (phase == Phase.DONE || !client.isActive()) {
            upstream.close();
            return;
        }
        phase = Phase.DONE; // the held early bytes go to the tunnel below
        session.upstreamAddress = NetUtil.toSocketAddressString(address);
        fwd.stats().tunnelOpened();
        log.debug("listener {}: client {}{}: SOCKS5 CONNECT {} to {} (request id {})", listener.name(),
                session.clientIp, user == null ? "" : " (" + user + ")", session.target(), session.upstreamAddress,
                session.requestId);
        // BND.ADDR and BND.PORT: the address the proxy connected from (RFC 1928 section 6)
        InetSocketAddress local = (InetSocketAddress) upstream.localAddress();
        ctx.write(new DefaultSocks5CommandResponse(Socks5CommandStatus.SUCCESS,
                local.getAddress() instanceof Inet6Address ? Socks5AddressType.IPv6 : Socks5AddressType.IPv4,
                NetUtil.toAddressString(local.getAddress()), local.getPort()));
        Relay relay = Relay.between(client, upstream, idleNanos, "listener " + listener.name() + ": SOCKS5 tunnel "
                + session.target() + " (request id " + session.requestId + ")", this::tunnelEnded);
        try {
            ByteBuf b;
            while ((b = early.poll()) != null) {
                upstream.write(b, upstream.voidPromise());
            }
            upstream.pipeline().addLast("relay", relay.upstreamSide());
            ChannelPipeline p = ctx.pipeline();
            p.replace(this, "relay", relay.clientSide());
            removeIfPresent(p, Socks5ServerEncoder.class);
            removeIfPresent(p, Socks5CommandRequestDecoder.class); // hands on any bytes it still held
        } catch (RuntimeException e) {
            log.error("listener {}: cannot switch the SOCKS5 connection of {} to a tunnel; closing both "
                    + "(request id {})", listener.name(), session.clientIp, session.requestId, e);
            relay.end(false);
            return;
        }
        relay.start();
    }

    private void tunnelEnded(long fromClient, long fromUpstream) {
        fwd.stats().tunnelClosed(fromClient, fromUpstream);
        session.log(listener, 200, fromUpstream, fromClient);
    }

    private static void removeIfPresent(ChannelPipeline p, Class<? extends ChannelHandler> type) {
        if (p.get(type) != null) {
            p.remove(type);
        }
    }

    // ---- the timeout, the end ----

    private void waitForClient() {
        waitingSince = System.nanoTime();
        timeout = ctx.executor().schedule(this::timedOut, Math.max(0, clientNanosLeft), TimeUnit.NANOSECONDS);
    }

    private void notWaitingForClient() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
            clientNanosLeft -= System.nanoTime() - waitingSince;
        }
    }

    private void timedOut() {
        timeout = null;
        if (phase == Phase.DONE) {
            return;
        }
        listener.stats().requestRejected(408);
        log.debug("listener {}: client {}: SOCKS5 handshake not done within header_read_timeout; closing",
                listener.name(), session.clientIp);
        end();
        ctx.close();
    }

    /** A client that does not speak SOCKS5 as RFC 1928 says: closed without a reply. */
    private void malformed(String why) {
        listener.stats().requestRejected(400);
        log.debug("listener {}: client {}: {}; closing", listener.name(), session.clientIp, why);
        end();
        ctx.close();
    }

    /** The handshake is over: no timeout, nothing held. */
    private void end() {
        phase = Phase.DONE;
        notWaitingForClient();
        heldCommand = null;
        ByteBuf b;
        while ((b = early.poll()) != null) {
            b.release();
        }
        earlyBytes = 0;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof java.io.IOException)) {
            log.warn("listener {}: client {}: SOCKS5 connection: {}", listener.name(), session.clientIp,
                    cause.toString());
        }
        end();
        ctx.close();
    }
}
