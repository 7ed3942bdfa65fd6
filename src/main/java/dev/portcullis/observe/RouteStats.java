package dev.portcullis.observe;
public final class RouteStats {
    public void record(int status, long durationNanos) {}
}
