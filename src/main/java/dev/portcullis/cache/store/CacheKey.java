package dev.portcullis.cache.store;

/**
 * Where one stored response lives: its primary key (the request target plus whatever the route adds) and its
 * variant key among that primary key's responses ("" when it does not vary).
 */
public record CacheKey(String primary, String variant) {
    public CacheKey {
        if (primary == null || variant == null) {
            throw new NullPointerException("cache keys are never null");
        }
    }
}
