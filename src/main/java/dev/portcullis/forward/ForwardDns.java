package dev.portcullis.forward;

import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.resolver.HostsFileEntriesProvider;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DefaultDnsCache;
import io.netty.resolver.dns.DefaultDnsCnameCache;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCnameCache;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.Future;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forward proxy's DNS: Netty's asynchronous resolver, one per event loop (a lookup never blocks a loop), all
 * sharing one cache that honours the answers' TTLs (capped at {@value #MAX_TTL_SECONDS} s; failures cached
 * {@value #NEGATIVE_TTL_SECONDS} s). The system's name servers ({@code /etc/resolv.conf}) and hosts file are used,
 * as curl and Squid do. The proxy connects to an address this returned, after the destination rules checked that
 * same address, so a name cannot resolve to an allowed address for the check and another for the connection.
 *
 * <p>The hosts file may be replaced with the system property {@value #HOSTS_FILE_PROPERTY} (tests give names to
 * local servers with it).
 */
public final class ForwardDns implements AutoCloseable {
    public static final String HOSTS_FILE_PROPERTY = "portcullis.forward.hostsFile";
    static final int MAX_TTL_SECONDS = 300;
    static final int NEGATIVE_TTL_SECONDS = 10;
    private static final Logger log = LoggerFactory.getLogger(ForwardDns.class);

    private final Class<? extends DatagramChannel> datagramChannel;
    private final DnsCache cache = new DefaultDnsCache(0, MAX_TTL_SECONDS, NEGATIVE_TTL_SECONDS);
    private final DnsCnameCache cnameCache = new DefaultDnsCnameCache(0, MAX_TTL_SECONDS);
    private final HostsFileEntriesResolver hosts = hostsResolver();
    private final Map<EventLoop, DnsNameResolver> resolvers = new ConcurrentHashMap<>();

    public ForwardDns(Class<? extends DatagramChannel> datagramChannel) {
        this.datagramChannel = datagramChannel;
    }

    /**
     * Every address of {@code host} (a name, not an IP literal: those need no lookup), IPv4 first. Completes on
     * {@code loop}; fails with an {@link java.net.UnknownHostException} when the name does not resolve.
     */
    public Future<List<InetAddress>> resolveAll(String host, EventLoop loop) {
        return resolvers.computeIfAbsent(loop, this::newResolver).resolveAll(host);
    }

    private DnsNameResolver newResolver(EventLoop loop) {
        return new DnsNameResolverBuilder(loop)
                .datagramChannelType(datagramChannel)
                .resolveCache(cache)
                .cnameCache(cnameCache)
                .hostsFileEntriesResolver(hosts)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .searchDomains(List.of()) // a client's name is absolute: the machine's search domains never apply
                .build();
    }

    private static HostsFileEntriesResolver hostsResolver() {
        String file = System.getProperty(HOSTS_FILE_PROPERTY);
        if (file == null) {
            return HostsFileEntriesResolver.DEFAULT;
        }
        try {
            HostsFileEntriesProvider entries = HostsFileEntriesProvider.parser().parse(new File(file),
                    StandardCharsets.UTF_8);
            return (name, types) -> {
                String key = name.toLowerCase(java.util.Locale.ROOT);
                List<InetAddress> v4 = entries.ipv4Entries().get(key);
                if (v4 != null && !v4.isEmpty() && types != ResolvedAddressTypes.IPV6_ONLY) {
                    return v4.get(0);
                }
                List<InetAddress> v6 = entries.ipv6Entries().get(key);
                return v6 == null || v6.isEmpty() || types == ResolvedAddressTypes.IPV4_ONLY ? null : v6.get(0);
            };
        } catch (IOException e) {
            log.error("forward proxy: cannot read the hosts file {} ({}); using the system's", file, e.toString());
            return HostsFileEntriesResolver.DEFAULT;
        }
    }

    @Override
    public void close() {
        resolvers.values().forEach(DnsNameResolver::close);
        resolvers.clear();
        cache.clear();
    }
}
