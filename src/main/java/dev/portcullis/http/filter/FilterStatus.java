package dev.portcullis.http.filter;

import dev.portcullis.http.LocalReply;

/** What a request filter decided. */
public sealed interface FilterStatus {
    /** Go on with the next filter, then the route's action. */
    FilterStatus CONTINUE = new Continue();

    record Continue() implements FilterStatus {}

    /** Answer the client now with this reply; the upstream is never called. */
    record Respond(LocalReply reply) implements FilterStatus {}
}
