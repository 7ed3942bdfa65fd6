package dev.portcullis.http.router;

import dev.portcullis.config.MatchConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Builds the predicates of one route's {@code match}, except host and plain paths, which the table indexes. */
public final class Predicates {
    private Predicates() {
    }

    public static RoutePredicate[] of(MatchConfig match) {
        List<RoutePredicate> out = new ArrayList<>();
        if (!match.methods().isEmpty()) {
            Set<String> methods = new HashSet<>(match.methods());
            out.add(f -> methods.contains(f.request().method().name()));
        }
        for (Map.Entry<String, String> h : match.headers().entrySet()) {
            String name = h.getKey();
            String value = h.getValue();
            out.add(f -> f.request().headers().containsValue(name, value, false));
        }
        for (Map.Entry<String, String> q : match.query().entrySet()) {
            String name = q.getKey();
            String value = q.getValue();
            out.add(f -> {
                List<String> values = f.queryParameters().get(name);
                return values != null && values.contains(value);
            });
        }
        if (!match.sources().isEmpty()) {
            List<Cidr> cidrs = match.sources().stream().map(Cidr::parse).toList();
            out.add(f -> {
                byte[] client = f.clientAddress();
                for (Cidr c : cidrs) {
                    if (c.contains(client)) {
                        return true;
                    }
                }
                return false;
            });
        }
        if (match.pathRegex() != null) {
            Pattern p = Pattern.compile(match.pathRegex());
            out.add(f -> p.matcher(f.path()).find());
        }
        return out.toArray(RoutePredicate[]::new);
    }
}
