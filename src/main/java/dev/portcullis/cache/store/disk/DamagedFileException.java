package dev.portcullis.cache.store.disk;

import java.io.IOException;

/** A cache file that cannot be trusted (bad magic, checksum mismatch, truncated, other key): it is deleted. */
final class DamagedFileException extends IOException {
    DamagedFileException(String reason) {
        super(reason);
    }

    /** Expected on a bad disk or after a crash, and reported by its reason: no stack trace to fill. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
