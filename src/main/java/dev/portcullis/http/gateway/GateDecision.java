package dev.portcullis.http.gateway;

import dev.portcullis.http.LocalReply;
import java.util.concurrent.CompletableFuture;

/** What a route's gate decided about a request. */
public sealed interface GateDecision {
    /** On to the route's action. */
    GateDecision PASS = new Pass();

    record Pass() implements GateDecision {}

    /**
     * Answered here, never sent upstream.
     *
     * @param reason a fixed token for the metrics: access, cors, auth, group, rate_limit
     */
    record Refuse(String reason, LocalReply reply) implements GateDecision {}

    /** A CORS preflight, answered here (204 with the policy's headers). */
    record Preflight(LocalReply reply) implements GateDecision {}

    /** Not known yet (a password hash checked off the event loop): the request waits for it. */
    record Pending(CompletableFuture<GateDecision> decision) implements GateDecision {}
}
