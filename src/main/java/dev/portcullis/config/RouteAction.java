package dev.portcullis.config;

import java.util.List;
import java.util.Map;

/** What a route does once matched: exactly one of upstream, split, redirect, respond. */
public sealed interface RouteAction {

    record Proxy(String upstream) implements RouteAction {}

    /** Weighted choice among upstreams per request (canaries); weights 1..1000 (0 keeps a branch but sends nothing). */
    record Split(List<Branch> branches) implements RouteAction {
        public record Branch(String upstream, int weight) {}
    }

    /** @param to a template with placeholders; status one of 301, 302, 303, 307, 308 (default 302) */
    record Redirect(String to, int status) implements RouteAction {}

    /** @param body may be empty; headers values may hold placeholders */
    record Respond(int status, String body, Map<String, String> headers) implements RouteAction {}
}
