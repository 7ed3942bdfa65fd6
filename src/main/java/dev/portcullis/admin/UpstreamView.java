package dev.portcullis.admin;

import java.util.List;

/** One upstream as {@code GET /api/v1/upstreams} shows it. */
public record UpstreamView(String name, String balance, List<EndpointView> endpoints) {}
