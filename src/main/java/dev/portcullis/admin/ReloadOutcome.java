package dev.portcullis.admin;

import java.util.List;

/** What a reload did. */
public sealed interface ReloadOutcome {
    /** The new config runs. */
    record Applied(String summary) implements ReloadOutcome {}

    /** The new config was refused; the old one keeps running. Errors read {@code FILE:LINE: path.to.key: message}. */
    record Refused(List<String> errors) implements ReloadOutcome {}
}
