package dev.portcullis.upstream;

import dev.portcullis.config.UpstreamConfig;
import dev.portcullis.upstream.lb.LoadBalancer;
import java.util.List;

/** A named group of endpoints with its balancing policy and connection settings, compiled from config. */
public final class Upstream {
    private final UpstreamConfig config;
    private final List<Endpoint> endpoints;
    private final LoadBalancer balancer;
    private final int connectTimeoutMillis;
    private final int maxIdlePerEndpoint;
    private final long idleTimeoutNanos;

    public Upstream(UpstreamConfig config, List<Endpoint> endpoints, LoadBalancer balancer) {
        this.config = config;
        this.endpoints = List.copyOf(endpoints);
        this.balancer = balancer;
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis());
        this.maxIdlePerEndpoint = config.keepalive().maxIdlePerEndpoint();
        this.idleTimeoutNanos = config.keepalive().idleTimeout().toNanos();
    }

    public String name() {
        return config.name();
    }

    public UpstreamConfig config() {
        return config;
    }

    public List<Endpoint> endpoints() {
        return endpoints;
    }

    public LoadBalancer balancer() {
        return balancer;
    }

    public int connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public int maxIdlePerEndpoint() {
        return maxIdlePerEndpoint;
    }

    public long idleTimeoutNanos() {
        return idleTimeoutNanos;
    }
}
