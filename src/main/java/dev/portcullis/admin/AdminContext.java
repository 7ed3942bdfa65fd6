package dev.portcullis.admin;

import dev.portcullis.observe.ProxyMetrics;
import java.util.List;
import java.util.Map;

/** What the admin API reads from and asks of the running process. The process implements it. */
public interface AdminContext {
    /** Every listener bound, config loaded, not draining. */
    boolean ready();

    /** The running config as the YAML tree; the admin API masks secrets when it renders it. */
    Map<String, Object> rawConfig();

    List<UpstreamView> upstreams();

    /**
     * Drains an endpoint (no new requests, those in flight finish) or puts it back.
     *
     * @return the endpoint after the change, or an error naming what was not found
     */
    DrainOutcome drain(String upstream, String address, boolean drained);

    /** Loads and applies the config again; called off the event loop, one call at a time. */
    ReloadOutcome reload();

    ProxyMetrics metrics();

    /** Purges the cache zones of the running config; @return how many stored responses were removed */
    int purge(PurgeRequest request);
}
