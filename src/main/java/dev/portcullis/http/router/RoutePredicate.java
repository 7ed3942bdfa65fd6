package dev.portcullis.http.router;

/** A condition of a route beyond host and path: method, header, query, source, regex path. */
@FunctionalInterface
public interface RoutePredicate {
    boolean test(RequestFacts facts);
}
