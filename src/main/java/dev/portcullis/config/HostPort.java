package dev.portcullis.config;

import java.net.InetSocketAddress;

/** An address as written in the config: {@code host:port}, {@code [::1]:port} or {@code 0.0.0.0:port}. */
public record HostPort(String host, int port) {

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** Unresolved form, for upstream endpoints resolved at connect time. */
    public InetSocketAddress toUnresolved() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
