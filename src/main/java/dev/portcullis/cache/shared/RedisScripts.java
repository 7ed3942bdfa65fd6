package dev.portcullis.cache.shared;

/**
 * The Lua scripts of the shared tier. Each touches one URL's index and objects, which share a cluster slot
 * ({@link SharedKeys}), or one tag set: atomic on Redis, one round trip for us, valid on a Redis Cluster.
 */
final class RedisScripts {
    private RedisScripts() {
    }

    /**
     * Stores an object and indexes it. KEYS: index, object. ARGV: value, ttl ms, {@code v:<pk>}, vary,
     * {@code o:<hash>}, pk, object key prefix. The index lives as long as its longest-lived object. When an index
     * has grown (over 16 fields and twice its size at the last pass), entries of objects Redis has expired are
     * dropped, and the Vary of keys with no object left: an often-stored URL's index stays as small as what is live.
     */
    static final String STORE = """
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
            redis.call('HSET', KEYS[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
            local ttl = tonumber(ARGV[2])
            if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
            local n = redis.call('HLEN', KEYS[1])
            if n > 16 and n > 2 * tonumber(redis.call('HGET', KEYS[1], '#') or '0') then
              local all = redis.call('HGETALL', KEYS[1])
              local live = {}
              for i = 1, #all, 2 do
                local f = all[i]
                if string.sub(f, 1, 2) == 'o:' then
                  if redis.call('EXISTS', ARGV[7] .. string.sub(f, 3)) == 1 then
                    live[all[i + 1]] = true
                  else
                    redis.call('HDEL', KEYS[1], f)
                  end
                end
              end
              for i = 1, #all, 2 do
                local f = all[i]
                if string.sub(f, 1, 2) == 'v:' and not live[string.sub(f, 3)] then redis.call('HDEL', KEYS[1], f) end
              end
              redis.call('HSET', KEYS[1], '#', redis.call('HLEN', KEYS[1]))
            end
            return 1
            """;

    /**
     * Removes the objects of one index whose primary key equals ARGV[3] ({@code key}) or starts with it
     * ({@code prefix}, ARGV[2]), and their entries. KEYS: index. ARGV[1]: object key prefix. Returns how many
     * objects were deleted.
     */
    static final String PURGE = """
            local all = redis.call('HGETALL', KEYS[1])
            local n = 0
            local v = ARGV[3]
            local function match(pk)
              if ARGV[2] == 'key' then return pk == v end
              return string.sub(pk, 1, #v) == v
            end
            for i = 1, #all, 2 do
              local f = all[i]
              local kind = string.sub(f, 1, 2)
              if kind == 'o:' and match(all[i + 1]) then
                n = n + redis.call('DEL', ARGV[1] .. string.sub(f, 3))
                redis.call('HDEL', KEYS[1], f)
              elseif kind == 'v:' and match(string.sub(f, 3)) then
                redis.call('HDEL', KEYS[1], f)
              end
            end
            local left = redis.call('HLEN', KEYS[1])
            if left == 0 or (left == 1 and redis.call('HEXISTS', KEYS[1], '#') == 1) then
              redis.call('DEL', KEYS[1])
            end
            return n
            """;

    /**
     * Adds an object to a tag set. KEYS: tag set. ARGV: object key, its expiry (epoch ms), drop members that
     * expired before this (epoch ms), the set's ttl ms (longer than any object's).
     */
    static final String TAG = """
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return 1
            """;
}
