package dev.portcullis.admin;

import dev.portcullis.observe.Json;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the admin API's responses and JSON bodies. */
final class AdminResponses {
    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";
    static final String HTML = "text/html; charset=utf-8";

    private AdminResponses() {}

    static FullHttpResponse bytes(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set("X-Content-Type-Options", "nosniff");
        return r;
    }

    static FullHttpResponse text(HttpResponseStatus status, String body) {
        return bytes(status, TEXT, body.getBytes(StandardCharsets.UTF_8));
    }

    static FullHttpResponse json(HttpResponseStatus status, Object tree) {
        return bytes(status, JSON, Json.toBytes(tree));
    }

    /** {@code {"error": message}} with the status's code. */
    static FullHttpResponse error(HttpResponseStatus status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status.code());
        body.put("error", message);
        return json(status, body);
    }

    static FullHttpResponse empty(HttpResponseStatus status, ByteBufAllocator alloc) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, alloc.buffer(0));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return r;
    }

    static Map<String, Object> upstreams(List<UpstreamView> upstreams) {
        List<Object> list = new ArrayList<>();
        for (UpstreamView u : upstreams) {
            Map<String, Object> um = new LinkedHashMap<>();
            um.put("name", u.name());
            um.put("balance", u.balance());
            um.put("panic", u.panic());
            um.put("active_endpoints", u.activeEndpoints());
            um.put("connections", u.connections());
            um.put("pending", u.pending());
            um.put("active_requests", u.requests());
            List<Object> eps = new ArrayList<>();
            for (EndpointView e : u.endpoints()) {
                eps.add(endpoint(e));
            }
            um.put("endpoints", eps);
            list.add(um);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("upstreams", list);
        return body;
    }

    static Map<String, Object> endpoint(EndpointView e) {
        Map<String, Object> em = new LinkedHashMap<>();
        em.put("address", e.address());
        em.put("weight", e.weight());
        em.put("effective_weight", e.effectiveWeight());
        em.put("backup", e.backup());
        em.put("health", e.health());
        em.put("checked", e.checked());
        em.put("active_requests", e.activeRequests());
        em.put("failures", e.failures());
        em.put("consecutive_failures", e.consecutiveFailures());
        em.put("ejections", e.ejections());
        em.put("ejected_until", e.ejectedUntilEpochMillis() == null ? null
                : java.time.Instant.ofEpochMilli(e.ejectedUntilEpochMillis()).toString());
        em.put("drained", e.drained());
        em.put("agent_weight_percent", e.agentWeightPercent());
        return em;
    }

    static Map<String, Object> reload(ReloadOutcome outcome) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (outcome instanceof ReloadOutcome.Applied a) {
            body.put("status", "reloaded");
            body.put("summary", a.summary());
        } else if (outcome instanceof ReloadOutcome.Refused r) {
            body.put("status", "refused");
            body.put("errors", r.errors());
        }
        return body;
    }
}
