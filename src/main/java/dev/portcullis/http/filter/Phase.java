package dev.portcullis.http.filter;

/**
 * The fixed order in which filters run, as nginx's phases: users choose which filters a route has, never
 * their order across phases. Request filters run ACCESS → LIMIT → CACHE → REQUEST; response filters run in
 * RESPONSE; LOG is after the exchange ends.
 */
public enum Phase { ACCESS, LIMIT, CACHE, REQUEST, RESPONSE, LOG }
