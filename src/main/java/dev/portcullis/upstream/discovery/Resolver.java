package dev.portcullis.upstream.discovery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a DNS name into its A/AAAA addresses. Called on the supervisor's DNS thread, never on an event loop, so
 * it may block. Tests put their own in to change the answers between refreshes.
 */
@FunctionalInterface
public interface Resolver {
    /** @return at least one address */
    List<InetAddress> resolve(String host) throws UnknownHostException;

    /**
     * The JDK's resolver (hosts file, then DNS). It caches answers for {@code networkaddress.cache.ttl} seconds
     * (30 by default), so a refresh shorter than that sees changes only that often.
     */
    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));
}
