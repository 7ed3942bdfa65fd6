package dev.portcullis.runtime;

import dev.portcullis.config.HostPort;
import dev.portcullis.http.ListenerContext;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/** A listener socket that is open, with the context its connections share. */
record BoundListener(HostPort bind, Channel serverChannel, ListenerContext context) {
    InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }
}
