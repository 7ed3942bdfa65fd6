package dev.portcullis.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** A route's {@code retry}. */
final class RetryReader {
    static final List<String> KEYS = List.of("attempts", "on", "per_try_timeout", "budget", "backoff", "non_idempotent");

    private RetryReader() {}

    static RetryConfig read(Section route) {
        if (!route.has("retry")) {
            return RetryConfig.DEFAULT;
        }
        Section r = route.section("retry");
        r.keys(KEYS, List.of());
        int attempts = r.integer("attempts", 2, 1, 10);
        Set<RetryConfig.Condition> on = EnumSet.noneOf(RetryConfig.Condition.class);
        Set<Integer> statuses = new LinkedHashSet<>();
        List<Section.Item> items = r.items("on", true);
        for (Section.Item item : items) {
            MatchReader.parse(r, item, "a retry condition", s -> condition(s.trim(), on, statuses));
        }
        if (!r.has("on")) {
            on.add(RetryConfig.Condition.CONNECT_FAILURE);
            on.add(RetryConfig.Condition.RESET);
            on.add(RetryConfig.Condition.TIMEOUT);
            statuses.addAll(List.of(502, 503, 504));
        }
        Duration perTry = r.duration("per_try_timeout", null, false);
        double budget = r.parse("budget", 20.0, "a percentage", Values::percent);
        Section b = r.section("backoff");
        b.keys(List.of("base", "max"), List.of());
        Duration base = b.duration("base", Duration.ofMillis(25), true);
        Duration max = b.duration("max", Duration.ofMillis(250), true);
        if (max.compareTo(base) < 0) {
            b.error("max", "backoff max is shorter than its base");
        }
        boolean nonIdempotent = r.bool("non_idempotent", false);
        return new RetryConfig(attempts, Set.copyOf(on), Set.copyOf(statuses), perTry, budget, base, max, nonIdempotent);
    }

    private static Object condition(String s, Set<RetryConfig.Condition> on, Set<Integer> statuses) {
        for (RetryConfig.Condition c : RetryConfig.Condition.values()) {
            if (c.key.equals(s)) {
                on.add(c);
                return c;
            }
        }
        switch (s) {
            case "5xx" -> {
                for (int i = 500; i <= 599; i++) {
                    statuses.add(i);
                }
                return s;
            }
            case "gateway_error" -> {
                statuses.addAll(List.of(502, 503, 504));
                return s;
            }
            default -> {
                if (s.matches("[45]\\d\\d")) {
                    statuses.add(Integer.parseInt(s));
                    return s;
                }
                if (s.matches("\\d+")) {
                    throw new IllegalArgumentException("status " + s + " cannot be retried on; expected a status "
                            + "400-599, 5xx or gateway_error");
                }
            }
        }
        List<String> all = new ArrayList<>();
        for (RetryConfig.Condition c : RetryConfig.Condition.values()) {
            all.add(c.key);
        }
        all.addAll(List.of("5xx", "gateway_error"));
        String hint = DidYouMean.suffix(s, all);
        throw new IllegalArgumentException("unknown retry condition '" + s + "'" + (hint.isEmpty()
                ? "; expected connect_failure, reset, timeout, 5xx, gateway_error or a status 400-599" : hint));
    }
}
