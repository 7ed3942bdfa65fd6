package dev.portcullis.http;

import dev.portcullis.config.ListenerLimits;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The timeouts of one client connection, on one scheduled task that re-arms itself instead of being
 * rescheduled on every read:
 * <ul>
 *   <li>waiting for a request: header_read_timeout for the first one, idle_timeout between keep-alive ones;</li>
 *   <li>reading a request head: header_read_timeout from its first byte (slowloris), then 408;</li>
 *   <li>a request in flight: idle_timeout of silence on both sides, and the route's whole-response timeout.</li>
 * </ul>
 */
final class ConnectionTimer implements Runnable {
    private enum State { AWAIT_FIRST_REQUEST, AWAIT_REQUEST, READ_HEADERS, IN_FLIGHT, STOPPED }

    private final HttpProxyHandler handler;
    private State state = State.AWAIT_FIRST_REQUEST;
    private long deadline;
    private long headerNanos;
    private long idleNanos;
    private long lastActivity;
    private long routeDeadline;
    private ScheduledFuture<?> task;
    private long scheduledFor;

    ConnectionTimer(HttpProxyHandler handler) {
        this.handler = handler;
    }

    void awaitRequest(ListenerLimits limits, boolean first) {
        headerNanos = limits.headerReadTimeout().toNanos();
        idleNanos = limits.idleTimeout().toNanos();
        state = first ? State.AWAIT_FIRST_REQUEST : State.AWAIT_REQUEST;
        routeDeadline = 0;
        deadline = System.nanoTime() + (first ? headerNanos : idleNanos);
        arm(deadline);
    }

    /** Raw bytes arrived from the client. */
    void bytesArrived() {
        if (state == State.AWAIT_REQUEST || state == State.AWAIT_FIRST_REQUEST) {
            state = State.READ_HEADERS;
            deadline = System.nanoTime() + headerNanos;
            arm(deadline);
        } else if (state == State.IN_FLIGHT) {
            lastActivity = System.nanoTime();
        }
    }

    void headersReceived() {
        state = State.IN_FLIGHT;
        lastActivity = System.nanoTime();
        arm(lastActivity + idleNanos);
    }

    /** Activity of the exchange in flight (bytes from the client or from the upstream). */
    void touch() {
        if (state == State.IN_FLIGHT) {
            lastActivity = System.nanoTime();
        }
    }

    void routeTimeout(long timeoutNanos) {
        if (timeoutNanos > 0 && state == State.IN_FLIGHT) {
            routeDeadline = System.nanoTime() + timeoutNanos;
            arm(routeDeadline);
        }
    }

    void stop() {
        state = State.STOPPED;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void arm(long at) {
        if (task != null && scheduledFor <= at) {
            return; // fires earlier and re-arms then
        }
        if (task != null) {
            task.cancel(false);
        }
        scheduledFor = at;
        task = handler.ctx.executor().schedule(this, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        task = null;
        long now = System.nanoTime();
        switch (state) {
            case STOPPED -> {
            }
            case AWAIT_FIRST_REQUEST, READ_HEADERS -> {
                if (now - deadline >= 0) {
                    state = State.STOPPED;
                    onHeaderTimeout();
                } else {
                    arm(deadline);
                }
            }
            case AWAIT_REQUEST -> {
                if (now - deadline >= 0) {
                    state = State.STOPPED;
                    onIdleTimeout();
                } else {
                    arm(deadline);
                }
            }
            case IN_FLIGHT -> {
                if (routeDeadline != 0 && now - routeDeadline >= 0) {
                    routeDeadline = 0;
                    onRouteTimeout();
                    if (state == State.IN_FLIGHT && task == null) {
                        arm(lastActivity + idleNanos); // the connection may still be finishing a write
                    }
                } else if (now - (lastActivity + idleNanos) >= 0) {
                    onIdleTimeout();
                } else {
                    long next = lastActivity + idleNanos;
                    if (routeDeadline != 0 && routeDeadline - next < 0) {
                        next = routeDeadline;
                    }
                    arm(next);
                }
            }
        }
    }

    // ---- what each timeout does ----

    private void onHeaderTimeout() {
        handler.listener().stats().requestRejected(408);
        if (handler.current() == null) {
            handler.writer.requestTimeout();
        } else {
            handler.ctx.close();
        }
    }

    private void onIdleTimeout() {
        Exchange ex = handler.current();
        if (ex == null) {
            handler.ctx.close();
        } else if (!ex.requestComplete && !ex.responseStarted) {
            handler.listener().stats().requestRejected(408);
            handler.failExchange(ex, LocalReply.fatal(408, "the request body stalled for longer than idle_timeout"));
        } else if (!ex.responseStarted) {
            handler.timeoutLeg();
            if (ex.endpoint != null) { // null while it waits on another request's cache fill: no endpoint to blame
                ex.endpoint.stats().failure();
            }
            handler.writer.closeAfterResponse(true);
            handler.onUpstreamFailure(ex, 504, "no response within idle_timeout (" + idleNanos / 1_000_000
                    + " ms)");
        } else {
            handler.abortLeg();
            handler.ctx.close();
        }
    }

    private void onRouteTimeout() {
        Exchange ex = handler.current();
        if (ex == null || ex.responseComplete) {
            return;
        }
        handler.timeoutLeg();
        if (ex.responseStarted) {
            handler.ctx.close();
            return;
        }
        if (ex.endpoint != null) {
            ex.endpoint.stats().failure();
        }
        if (!ex.requestComplete) {
            handler.writer.closeAfterResponse(true);
        }
        handler.onUpstreamFailure(ex, 504, "no complete response within the route timeout of "
                + ex.route.timeoutNanos() / 1_000_000 + " ms");
    }
}
