package dev.portcullis.http.gateway;

import java.util.Set;

/**
 * Who a request comes from, once a route's {@code auth} accepted it: a configured consumer, or a user of an
 * htpasswd file that no consumer names (known by that name, in no group).
 */
public record Consumer(String name, Set<String> groups, LocalRateLimiter limiter) {
    /** A consumer without a limit of its own (an htpasswd user or a token subject no consumer names). */
    public Consumer(String name, Set<String> groups) {
        this(name, groups, null);
    }

    public boolean inAnyOf(java.util.Collection<String> wanted) {
        for (String g : wanted) {
            if (groups.contains(g)) {
                return true;
            }
        }
        return false;
    }
}
