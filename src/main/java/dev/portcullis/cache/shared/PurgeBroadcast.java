package dev.portcullis.cache.shared;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.portcullis.cache.store.CacheZone;
import dev.portcullis.observe.Json;
import dev.portcullis.redis.RateLimitedLog;
import dev.portcullis.redis.RedisClients;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Purges that reach every instance sharing a {@code redis}: a purge made through this instance's admin API is
 * published on {@value #CHANNEL} as the zone-level purges it made; every other instance applies them to its own
 * zone of that name (memory and local tiers; the shared tier was purged by the sender) and ignores its own
 * messages. One per process; it listens on each Redis client the process uses.
 *
 * <p>Message (UTF-8 JSON): {@code {"v":1,"from":"<instance id>","purges":[{"zone":"z","kind":"key|prefix|tag",
 * "value":"..."}]}}. Redis pub/sub keeps nothing: an instance that is disconnected when a purge is published
 * does not get it (its memory copies live until they are stale or evicted).
 */
public final class PurgeBroadcast {
    private static final Logger log = LoggerFactory.getLogger(PurgeBroadcast.class);
    public static final String CHANNEL = "portcullis:purge";
    /** A longer message is not read: no purge needs it. */
    static final int MAX_MESSAGE = 1 << 20;
    private static final JsonFactory JSON = new JsonFactory();

    public enum Kind { KEY, PREFIX, TAG }

    /** One zone-level purge: {@link CacheZone#purgeKey}, {@link CacheZone#purgePrefix} or {@link CacheZone#purgeTag}. */
    public record Purge(String zone, Kind kind, String value) {}

    record Message(String from, List<Purge> purges) {}

    private final String instanceId = UUID.randomUUID().toString();
    private final Supplier<Map<String, CacheZone>> zones;
    /** Where received purges run: off lettuce's IO thread (a prefix purge walks the zone's sorted keys). */
    private final Executor executor;
    private final RateLimitedLog warnings = new RateLimitedLog(log, Duration.ofSeconds(30));

    /** @param zones the zones in force now (the current snapshot's) */
    public PurgeBroadcast(Supplier<Map<String, CacheZone>> zones) {
        this(zones, ForkJoinPool.commonPool());
    }

    PurgeBroadcast(Supplier<Map<String, CacheZone>> zones, Executor executor) {
        this.zones = zones;
        this.executor = executor;
    }

    public String instanceId() {
        return instanceId;
    }

    /** Applies one purge to a zone of this instance; returns how many objects it removed (as the zone counts). */
    public static int apply(CacheZone zone, Purge p) {
        return switch (p.kind()) {
            case KEY -> zone.purgeKey(p.value());
            case PREFIX -> zone.purgePrefix(p.value());
            case TAG -> zone.purgeTag(p.value());
        };
    }

    /** From now on, purges the other instances publish through {@code redis} are applied here. */
    public void listen(RedisClients redis) {
        redis.subscribe(CHANNEL, message -> received(redis, message));
        log.info("cache purges: this instance ({}) sends its purges to and takes purges from the other instances "
                + "through Redis channel {}", instanceId, CHANNEL);
    }

    /** Tells the other instances (in the background); a failure is counted and warned about. */
    public CompletableFuture<Long> publish(RedisClients redis, List<Purge> purges) {
        if (purges.isEmpty()) {
            return CompletableFuture.completedFuture(0L);
        }
        return redis.publish(CHANNEL, encode(instanceId, purges)).whenComplete((n, err) -> {
            if (err != null) {
                redis.stats().broadcast("failed");
                redis.failed("publish", err);
                warnings.warn("cache purge {} was made here but could not be sent to the other instances; purge "
                        + "again once Redis answers (or on each instance)", purges);
            } else {
                redis.stats().broadcast("sent");
            }
        });
    }

    private void received(RedisClients redis, byte[] bytes) {
        Message m;
        try {
            m = decode(bytes);
        } catch (IOException | IllegalArgumentException e) {
            redis.stats().broadcast("failed");
            warnings.warn("a message on Redis channel {} is not a purge Portcullis understands ({}); ignored",
                    CHANNEL, e.getMessage());
            return;
        }
        if (m.from().equals(instanceId)) {
            return; // made here already
        }
        executor.execute(() -> {
            Map<String, CacheZone> now = zones.get();
            int n = 0;
            for (Purge p : m.purges()) {
                CacheZone z = now.get(p.zone());
                if (z != null) {
                    n += RedisTier.applyingRemotePurge(() -> apply(z, p));
                }
            }
            redis.stats().broadcast("received");
            log.info("cache purge from instance {}: {} removed {} stored response(s) here", m.from(), m.purges(), n);
        });
    }

    static byte[] encode(String from, List<Purge> purges) {
        List<Object> list = new ArrayList<>(purges.size());
        for (Purge p : purges) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("zone", p.zone());
            o.put("kind", p.kind().name().toLowerCase(Locale.ROOT));
            o.put("value", p.value());
            list.add(o);
        }
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("v", 1);
        msg.put("from", from);
        msg.put("purges", list);
        return Json.toBytes(msg);
    }

    static Message decode(byte[] bytes) throws IOException {
        if (bytes.length > MAX_MESSAGE) {
            throw new IllegalArgumentException("message of " + bytes.length + " bytes");
        }
        String from = null;
        List<Purge> purges = null;
        try (JsonParser p = JSON.createParser(bytes)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            JsonToken f;
            while ((f = p.nextToken()) != JsonToken.END_OBJECT) {
                expect(f, JsonToken.FIELD_NAME);
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "v" -> {
                        if (t != JsonToken.VALUE_NUMBER_INT || p.getIntValue() != 1) {
                            throw new IllegalArgumentException("unknown version " + p.getText());
                        }
                    }
                    case "from" -> from = text(p, t, "from");
                    case "purges" -> purges = purges(p, t);
                    default -> p.skipChildren(); // a later version's addition
                }
            }
        }
        if (from == null || purges == null) {
            throw new IllegalArgumentException("'from' and 'purges' are required");
        }
        return new Message(from, purges);
    }

    private static List<Purge> purges(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.START_ARRAY);
        List<Purge> out = new ArrayList<>();
        JsonToken item;
        while ((item = p.nextToken()) != JsonToken.END_ARRAY) {
            expect(item, JsonToken.START_OBJECT);
            String zone = null;
            String kind = null;
            String value = null;
            JsonToken f;
            while ((f = p.nextToken()) != JsonToken.END_OBJECT) {
                expect(f, JsonToken.FIELD_NAME);
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "zone" -> zone = text(p, v, "zone");
                    case "kind" -> kind = text(p, v, "kind");
                    case "value" -> value = text(p, v, "value");
                    default -> p.skipChildren();
                }
            }
            if (zone == null || kind == null || value == null) {
                throw new IllegalArgumentException("a purge needs zone, kind and value");
            }
            Kind k = switch (kind) {
                case "key" -> Kind.KEY;
                case "prefix" -> Kind.PREFIX;
                case "tag" -> Kind.TAG;
                default -> throw new IllegalArgumentException("unknown kind '" + kind + "'");
            };
            out.add(new Purge(zone, k, value));
        }
        return out;
    }

    private static String text(JsonParser p, JsonToken t, String field) throws IOException {
        if (t != JsonToken.VALUE_STRING) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return p.getText();
    }

    private static void expect(JsonToken got, JsonToken wanted) {
        if (got != wanted) {
            throw new IllegalArgumentException("expected " + wanted + ", found " + got);
        }
    }
}
