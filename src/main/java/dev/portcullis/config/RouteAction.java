package dev.portcullis.config;

import java.util.Map;

/** What a route does once matched: exactly one of upstream, redirect, respond. */
public sealed interface RouteAction {

    record Proxy(String upstream) implements RouteAction {}

    /** @param to a template with placeholders; status one of 301, 302, 303, 307, 308 (default 302) */
    record Redirect(String to, int status) implements RouteAction {}

    /** @param body may be empty; headers values may hold placeholders */
    record Respond(int status, String body, Map<String, String> headers) implements RouteAction {}
}
