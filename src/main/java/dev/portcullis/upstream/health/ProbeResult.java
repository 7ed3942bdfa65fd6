package dev.portcullis.upstream.health;

/**
 * What one probe found.
 *
 * @param ok     the check passed (for an agent: a line was read)
 * @param detail for logs: the status seen, the agent's line, or why it failed (refused, timed out, reset)
 */
record ProbeResult(boolean ok, String detail) {}
