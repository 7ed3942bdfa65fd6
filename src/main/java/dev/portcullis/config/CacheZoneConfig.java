package dev.portcullis.config;

import java.nio.file.Path;

/**
 * One {@code caches.NAME} zone: a shared HTTP cache (RFC 9111) that routes name with {@code cache: NAME}.
 *
 * @param memoryBytes   the memory tier's bound, in bytes of stored bodies and headers
 * @param disk          the optional second tier; null when not set
 * @param maxObjectSize a response larger than this (by Content-Length, or once its body passes it) is not stored
 */
public record CacheZoneConfig(String name, long memoryBytes, Disk disk, long maxObjectSize) {
    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final long DEFAULT_MAX_OBJECT_SIZE = 16L << 20;

    /**
     * {@code disk: { path, size }}: survives restarts; {@code path} relative to the config file's directory.
     *
     * @param line line of the {@code disk} key, for errors found when the directory is opened; not part of equality
     *             (moving the section in the file changes nothing)
     */
    public record Disk(Path path, long sizeBytes, int line) {
        public Disk(Path path, long sizeBytes) {
            this(path, sizeBytes, 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Disk d && d.sizeBytes == sizeBytes && d.path.equals(path);
        }

        @Override
        public int hashCode() {
            return path.hashCode() * 31 + Long.hashCode(sizeBytes);
        }
    }
}
