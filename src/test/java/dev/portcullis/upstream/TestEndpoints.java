package dev.portcullis.upstream;

import dev.portcullis.config.HostPort;
import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.upstream.lb.PickContext;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Endpoints and upstreams for balancer tests, without sockets. */
public final class TestEndpoints {
    private static final ProxyMetrics METRICS = new ProxyMetrics();

    private TestEndpoints() {}

    /** An endpoint named {@code host}:80; weight 1, not a backup. */
    public static Endpoint ep(String host) {
        return ep(host, 1, false);
    }

    public static Endpoint ep(String host, int weight, boolean backup) {
        HostPort hp = new HostPort(host, 80);
        return new Endpoint("u", hp, InetSocketAddress.createUnresolved(host, 80), weight, backup,
                METRICS.endpoint("u", hp.toString()), new EndpointState());
    }

    /** Config of an upstream "u" with the given balance and these endpoints ("a", "b:3", "x:1:backup"). */
    public static Upstream upstream(UpstreamConfig.Balance balance, String... specs) {
        return upstream(config(balance, specs), specs);
    }

    public static Upstream upstream(UpstreamConfig config, String... specs) {
        List<Endpoint> eps = new ArrayList<>();
        for (String s : specs) {
            String[] p = s.split(":");
            eps.add(ep(p[0], p.length > 1 ? Integer.parseInt(p[1]) : 1, p.length > 2));
        }
        return new Upstream(config, eps);
    }

    public static UpstreamConfig config(UpstreamConfig.Balance balance, String... specs) {
        List<UpstreamConfig.EndpointConfig> eps = new ArrayList<>();
        for (String s : specs) {
            String[] p = s.split(":");
            eps.add(new UpstreamConfig.EndpointConfig(new HostPort(p[0], 80), p.length > 1 ? Integer.parseInt(p[1]) : 1,
                    p.length > 2));
        }
        return new UpstreamConfig("u", eps, balance,
                balance == UpstreamConfig.Balance.CONSISTENT_HASH ? new UpstreamConfig.HashOn.SourceIp() : null,
                UpstreamConfig.HashMethod.MAGLEV, null, null, null, null, java.time.Duration.ZERO,
                UpstreamConfig.CircuitBreaker.UNLIMITED, UpstreamConfig.DEFAULT_PANIC_THRESHOLD,
                UpstreamConfig.DEFAULT_CONNECT_TIMEOUT, UpstreamConfig.Keepalive.DEFAULTS);
    }

    /** A request's tries: a fixed hash key and the endpoints tried so far. */
    public static final class Tries implements PickContext {
        public final List<Endpoint> tried = new ArrayList<>();
        public long hash;

        public Tries() {}

        public Tries(long hash) {
            this.hash = hash;
        }

        @Override
        public long hashKey() {
            return hash;
        }

        @Override
        public boolean tried(Endpoint e) {
            return tried.contains(e);
        }

        /** Chooses and records the choice. */
        public Endpoint next(Upstream u) {
            Endpoint e = u.choose(this);
            if (e != null) {
                tried.add(e);
            }
            return e;
        }
    }
}
