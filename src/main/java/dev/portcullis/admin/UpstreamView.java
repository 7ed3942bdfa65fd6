package dev.portcullis.admin;

import java.util.List;

/**
 * One upstream as {@code GET /api/v1/upstreams} shows it.
 *
 * @param panic true while too few primaries are healthy and requests go to all of them (panic_threshold)
 */
public record UpstreamView(String name, String balance, boolean panic, int activeEndpoints, int connections,
                           int pending, int requests, List<EndpointView> endpoints) {}
