package dev.portcullis.cache.store;

import io.netty.util.ReferenceCounted;

/**
 * A response the cache holds or is filling: immutable metadata plus a shared {@link Body}. Several of these can
 * share one body (a 304 freshens the metadata into a new instance); the reference count is the body's, so
 * {@link #retain()}/{@link #release()} here pin or free the bytes, and metadata is plain garbage-collected data.
 */
public final class StoredResponse implements ReferenceCounted {
    private final ResponseMeta meta;
    private final Body body;
    private final CacheKey key;
    /** A view of {@link #meta} computed once by its first user (the policy's parsed form); never changes after. */
    private volatile Object parsed;

    StoredResponse(ResponseMeta meta, Body body) {
        this.meta = meta;
        this.body = body;
        this.key = new CacheKey(meta.primaryKey(), meta.variantKey());
    }

    /**
     * For a later disk tier that loads objects: {@code body} must be sealed; its reference moves to the result.
     */
    public static StoredResponse of(ResponseMeta meta, Body body) {
        if (!body.isSealed()) {
            throw new IllegalArgumentException("a stored response's body must be complete");
        }
        return new StoredResponse(meta, body);
    }

    public ResponseMeta meta() {
        return meta;
    }

    /**
     * The value {@code parse} computes from the metadata, computed on first use and kept: a hit then parses no
     * header. The metadata never changes (a 304 makes a new instance), so neither does the value. Every caller must
     * pass the same kind of function; two racing first calls may both compute it (the values are equal).
     */
    @SuppressWarnings("unchecked")
    public <T> T parsed(java.util.function.Function<ResponseMeta, T> parse) {
        Object p = parsed;
        if (p == null) {
            p = parse.apply(meta);
            parsed = p;
        }
        return (T) p;
    }

    public Body body() {
        return body;
    }

    public CacheKey key() {
        return key;
    }

    /** The body's length; final once {@link Body#isSealed()} (a hit's body always is). */
    public long bodyLength() {
        return body.length();
    }

    /** The same body with other metadata (same keys); shares the body, takes no reference. */
    StoredResponse withMeta(ResponseMeta newMeta) {
        if (!newMeta.primaryKey().equals(meta.primaryKey()) || !newMeta.variantKey().equals(meta.variantKey())) {
            throw new IllegalArgumentException("freshened metadata must keep the keys " + key);
        }
        return new StoredResponse(newMeta, body);
    }

    /** What the memory tier counts for this object: chunk memory and metadata. */
    int weight() {
        long w = body.memoryBytes() + meta.byteSize() + 64;
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    @Override
    public int refCnt() {
        return body.refCnt();
    }

    @Override
    public StoredResponse retain() {
        body.retain();
        return this;
    }

    @Override
    public StoredResponse retain(int increment) {
        body.retain(increment);
        return this;
    }

    @Override
    public StoredResponse touch() {
        return this;
    }

    @Override
    public StoredResponse touch(Object hint) {
        return this;
    }

    @Override
    public boolean release() {
        return body.release();
    }

    @Override
    public boolean release(int decrement) {
        return body.release(decrement);
    }

    @Override
    public String toString() {
        return "StoredResponse(" + key + ", " + meta.status() + ", " + body + ")";
    }
}
