package dev.portcullis.config;

import java.nio.file.Path;

/**
 * One {@code caches.NAME} zone: a shared HTTP cache (RFC 9111) that routes name with {@code cache: NAME}.
 *
 * @param memoryBytes   the memory tier's bound, in bytes of stored bodies and headers
 * @param disk          the optional second tier; null when not set
 * @param maxObjectSize a response larger than this (by Content-Length, or once its body passes it) is not stored
 * @param shared        the optional tier shared through the top-level {@code redis}; null when not set
 */
public record CacheZoneConfig(String name, long memoryBytes, Disk disk, long maxObjectSize, Shared shared) {
    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final long DEFAULT_MAX_OBJECT_SIZE = 16L << 20;
    /** The shared tier's default object bound: Redis serves large values slowly and keeps them in its memory. */
    public static final long DEFAULT_SHARED_MAX_OBJECT_SIZE = 1L << 20;

    /** A zone without a shared tier. */
    public CacheZoneConfig(String name, long memoryBytes, Disk disk, long maxObjectSize) {
        this(name, memoryBytes, disk, maxObjectSize, null);
    }

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

    /**
     * {@code shared: redis}: every instance with the same {@code redis} reads and writes the zone's objects there.
     *
     * @param maxObjectSize larger objects stay in this instance's own tiers ({@code shared_max_object_size})
     */
    public record Shared(long maxObjectSize) {}
}
