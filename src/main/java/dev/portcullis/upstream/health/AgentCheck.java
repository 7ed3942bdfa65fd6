package dev.portcullis.upstream.health;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.net.Transport;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code agent} of one upstream's health check: every agent interval, connect to the endpoint's address on
 * the agent port and read the one line the agent sends ({@link AgentReply}). The line sets the endpoint's weight
 * (so balancers send it traffic by its own reported load), or holds it down or drained. An agent that cannot be
 * reached changes nothing (as in HAProxy): the last report stays in force and the failure is logged once.
 */
public final class AgentCheck extends EndpointProbes {
    private static final Logger log = LoggerFactory.getLogger(AgentCheck.class);

    private final UpstreamConfig.Agent agent;
    private final Transport transport;
    private final int timeoutMillis;
    /** Endpoints whose agent failed last time (already logged); touched on the supervisor loop only. */
    private final Set<Endpoint> unreachable = Collections.newSetFromMap(new IdentityHashMap<>());

    public AgentCheck(Upstream upstream, EventLoop loop, Transport transport) {
        super(upstream, loop, upstream.config().healthCheck().agent().interval().toNanos());
        UpstreamConfig.HealthCheck hc = upstream.config().healthCheck();
        this.agent = hc.agent();
        this.transport = transport;
        this.timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, hc.timeout().toMillis()));
    }

    public static boolean configured(UpstreamConfig config) {
        return config.healthCheck() != null && config.healthCheck().agent() != null;
    }

    @Override
    protected void probe(Endpoint e, Consumer<ProbeResult> done) {
        AgentProbe.run(loop, transport, new InetSocketAddress(e.socketAddress().getAddress(), agent.port()),
                timeoutMillis, done);
    }

    @Override
    protected void apply(Endpoint e, ProbeResult r) {
        if (!r.ok()) {
            if (unreachable.add(e)) {
                log.warn("upstream {}: agent of endpoint {} on port {} failed ({}); its last report stays in force "
                        + "until the agent answers", upstream.name(), e.label(), agent.port(), r.detail());
            }
            return;
        }
        if (unreachable.remove(e)) {
            log.info("upstream {}: agent of endpoint {} answers again", upstream.name(), e.label());
        }
        AgentReply reply = AgentReply.parse(r.detail());
        if (!reply.unknown().isEmpty()) {
            log.debug("upstream {}: agent of endpoint {} sent words this proxy ignores: {}", upstream.name(), e.label(),
                    reply.unknown());
        }
        if (applyTo(reply, e)) {
            EndpointState s = e.state();
            log.info("upstream {}: agent of endpoint {} says '{}': weight {}%{}{}", upstream.name(), e.label(),
                    r.detail(), s.agentWeightPercent(), s.agentDown() ? ", down" : "",
                    s.agentDrained() ? ", drained" : "");
            upstream.refresh();
        }
    }

    /** @return true when the endpoint's state changed */
    static boolean applyTo(AgentReply reply, Endpoint e) {
        EndpointState s = e.state();
        boolean changed = false;
        if (reply.percent() != null) {
            changed |= s.agentWeightPercent(reply.percent());
        } else if (reply.weight() != null) {
            changed |= s.agentWeightPercent((int) Math.min(100_000L, reply.weight() * 100L / e.weight()));
        }
        if (reply.down() != null) {
            changed |= s.agentDown(reply.down());
        }
        if (reply.drained() != null) {
            changed |= s.agentDrained(reply.drained());
        }
        return changed;
    }

    @Override
    protected void forget(Endpoint e) {
        unreachable.remove(e);
    }
}
