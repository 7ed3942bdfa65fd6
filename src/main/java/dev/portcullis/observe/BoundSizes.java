package dev.portcullis.observe;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The sizes (objects, bytes) a metrics holder that outlives reloads reads from whichever store serves its name now:
 * a reload's new store binds before the old one unbinds, and an unbind by a store that was replaced changes nothing.
 * Read at scrape time only.
 */
final class BoundSizes {
    private record Sizes(Object owner, LongSupplier objects, LongSupplier bytes) {}

    private final AtomicReference<Sizes> sizes = new AtomicReference<>();

    void bind(Object owner, LongSupplier objects, LongSupplier bytes) {
        sizes.set(new Sizes(owner, objects, bytes));
    }

    /** {@code owner} is gone: sizes read 0, unless another store bound since. */
    void unbind(Object owner) {
        Sizes s = sizes.get();
        if (s != null && s.owner() == owner) {
            sizes.compareAndSet(s, null);
        }
    }

    long objects() {
        Sizes s = sizes.get();
        return s == null ? 0 : s.objects().getAsLong();
    }

    long bytes() {
        Sizes s = sizes.get();
        return s == null ? 0 : s.bytes().getAsLong();
    }
}
