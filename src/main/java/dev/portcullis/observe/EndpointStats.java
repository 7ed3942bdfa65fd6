package dev.portcullis.observe;
public final class EndpointStats {
    public void connectFailure() {}
    public void requestStarted() {}
    public void requestFinished() {}
    public void failure() {}
    public long activeRequests() { return 0; }
    public long failures() { return 0; }
}
