package dev.portcullis.config;

/** @param token empty when no token is required */
public record AdminConfig(HostPort bind, String token) {
    public boolean tokenRequired() {
        return token != null && !token.isEmpty();
    }
}
