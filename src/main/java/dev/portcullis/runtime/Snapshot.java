package dev.portcullis.runtime;

import dev.portcullis.config.PortcullisConfig;
import dev.portcullis.http.ListenerRuntime;
import dev.portcullis.upstream.Upstream;
import java.util.Map;

/**
 * One loaded config, compiled: listeners with their route tables, and the upstream registry. Immutable; a
 * reload builds a new one and swaps it in, while requests in flight keep the objects they started with.
 */
public record Snapshot(PortcullisConfig config, Map<String, ListenerRuntime> listeners,
                       Map<String, Upstream> upstreams) {
}
