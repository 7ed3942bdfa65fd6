package dev.portcullis.admin;

/** The answer to a drain request of the admin API. */
public sealed interface DrainOutcome {
    record Done(EndpointView endpoint) implements DrainOutcome {}

    /** No such upstream or endpoint: the message says which, and what exists. */
    record NotFound(String message) implements DrainOutcome {}
}
