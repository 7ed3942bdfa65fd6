package dev.portcullis.observe;
public final class ListenerStats {
    public void connectionOpened() {}
    public void connectionClosed() {}
    public void connectionRejected() {}
    public void requestRejected(int status) {}
}
