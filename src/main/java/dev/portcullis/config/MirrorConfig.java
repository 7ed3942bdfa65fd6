package dev.portcullis.config;

/** A route's {@code mirror}: copies of {@code percent} of its requests go to {@code upstream}; replies are dropped. */
public record MirrorConfig(String upstream, double percent) {}
