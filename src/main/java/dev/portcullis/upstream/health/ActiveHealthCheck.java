package dev.portcullis.upstream.health;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.net.Transport;
import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.Upstream;
import io.netty.channel.EventLoop;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} or {@code tcp} check of one upstream. An endpoint leaves the set balancers pick from after
 * {@code unhealthy_threshold} failed checks in a row and comes back after {@code healthy_threshold} passed ones
 * (ramping up under {@code slow_start}); each change rebuilds the upstream's set and is logged with the reason.
 * Endpoints start healthy, so traffic flows before the first check.
 */
public final class ActiveHealthCheck extends EndpointProbes {
    private static final Logger log = LoggerFactory.getLogger(ActiveHealthCheck.class);

    private final UpstreamConfig.HealthCheck check;
    private final Transport transport;
    private final int timeoutMillis;

    public ActiveHealthCheck(Upstream upstream, EventLoop loop, Transport transport) {
        super(upstream, loop, upstream.config().healthCheck().interval().toNanos());
        this.check = upstream.config().healthCheck();
        this.transport = transport;
        this.timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, check.timeout().toMillis()));
    }

    /** Whether the upstream's {@code health_check} has an http or tcp probe (it may have only an agent). */
    public static boolean configured(UpstreamConfig config) {
        return config.healthCheck() != null && (config.healthCheck().http() != null || config.healthCheck().tcp());
    }

    @Override
    protected void probe(Endpoint e, Consumer<ProbeResult> done) {
        if (check.http() != null) {
            HttpProbe.run(loop, transport, e, check.http(), timeoutMillis, upstream.connection(), done);
        } else {
            new ProbeCall(done).connect(loop, transport, e.socketAddress(), timeoutMillis, null);
        }
    }

    @Override
    protected void apply(Endpoint e, ProbeResult r) {
        boolean changed = e.state().checkResult(r.ok(), check.healthyThreshold(), check.unhealthyThreshold());
        if (!changed) {
            log.debug("upstream {}: endpoint {} {} check: {}", upstream.name(), e.label(), r.ok() ? "passed" : "failed",
                    r.detail());
            return;
        }
        String what = check.http() != null ? "GET " + check.http().path() : "tcp connect";
        if (r.ok()) {
            log.info("upstream {}: endpoint {} is healthy again after {} passed check(s) ({}: {}); it takes requests",
                    upstream.name(), e.label(), check.healthyThreshold(), what, r.detail());
        } else {
            log.warn("upstream {}: endpoint {} is unhealthy after {} failed check(s) in a row ({}: {}); no new "
                            + "requests until {} check(s) pass", upstream.name(), e.label(), check.unhealthyThreshold(),
                    what, r.detail(), check.healthyThreshold());
        }
        upstream.refresh();
    }
}
