package dev.portcullis.http;

import dev.portcullis.config.ForwardConfig;
import dev.portcullis.forward.DestinationGuard;
import dev.portcullis.forward.DomainRules;
import dev.portcullis.forward.HostSyntax;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * A forward listener's destination rules, compiled once per config: the target host read as browsers read it
 * ({@link HostSyntax}: odd spellings of addresses are addresses, never names for DNS), the domain lists
 * ({@link DomainRules}: deny wins, an allow list limits), and the guard on resolved addresses
 * ({@link DestinationGuard}).
 */
final class ForwardRules {
    private final DomainRules domains;
    private final DestinationGuard guard;

    private ForwardRules(DomainRules domains, DestinationGuard guard) {
        this.domains = domains;
        this.guard = guard;
    }

    /**
     * Reads the list files now (blocking: at config load, never on an event loop).
     *
     * @throws DomainRules.InvalidRulesException naming each bad entry (file and line for list files)
     */
    static ForwardRules of(ForwardConfig config) {
        DomainRules domains = config.allowDomains().isEmpty() && config.denyDomains().isEmpty()
                ? DomainRules.allowAll()
                : DomainRules.compile(texts(config.allowDomains()), texts(config.denyDomains()), Path.of("/"));
        DestinationGuard guard = config.denyPrivateDestinations()
                ? DestinationGuard.denyPrivate(DestinationGuard.parseAllowPrivate(config.allowPrivate()))
                : DestinationGuard.off();
        return new ForwardRules(domains, guard);
    }

    /** Entries as the rules read them: names as written, list files by their resolved absolute path. */
    private static List<String> texts(List<ForwardConfig.DomainEntry> entries) {
        return entries.stream().map(e -> e.file() == null ? e.text() : "file:" + e.file()).toList();
    }

    ForwardRuntime.Destination destinationOf(String host) {
        HostSyntax.Host parsed = HostSyntax.parse(host);
        if (parsed instanceof HostSyntax.Invalid invalid) {
            return new ForwardRuntime.BadHost("invalid target host: " + invalid.why());
        }
        DomainRules.Decision d = domains.check(parsed);
        if (!d.allowed()) {
            return new ForwardRuntime.Denied("domain", "destination " + host + " is " + d.reason());
        }
        if (parsed instanceof HostSyntax.IpLiteral ip) {
            return new ForwardRuntime.Literal(ip.address());
        }
        return new ForwardRuntime.Name(((HostSyntax.DomainName) parsed).name());
    }

    ForwardRuntime.Destination destinationOf(InetAddress address) {
        DomainRules.Decision d = domains.check(address);
        if (!d.allowed()) {
            return new ForwardRuntime.Denied("domain", "destination " + HostSyntax.canonicalText(address) + " is "
                    + d.reason());
        }
        return new ForwardRuntime.Literal(address);
    }

    String guard(InetAddress address) {
        return guard.check(address).map(DestinationGuard.Denial::rule).orElse(null);
    }
}
