package dev.portcullis.observe;
public final class ProxyMetrics {
    public RouteStats route(String listener, String route, String upstream) { return new RouteStats(); }
    public ListenerStats listener(String name) { return new ListenerStats(); }
    public EndpointStats endpoint(String upstream, String endpoint) { return new EndpointStats(); }
    public void accessLogDropped() {}
    public void reload(boolean ok) {}
}
