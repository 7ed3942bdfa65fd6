package dev.portcullis.cache.shared;

import dev.portcullis.cache.store.Body;
import dev.portcullis.cache.store.HeaderList;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Stored responses for the shared tier's tests. */
final class SharedFixtures {
    static final PooledByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private SharedFixtures() {
    }

    /** A sealed response; the caller holds its one reference. */
    static StoredResponse response(String pk, String vk, byte[] body, String... headers) {
        long now = System.currentTimeMillis();
        ResponseMeta meta = ResponseMeta.of(pk, vk, 200, "OK", HeaderList.of(headers), now - 5, now);
        Body b = Body.open(ALLOC, body.length, body.length);
        ByteBuf src = Unpooled.wrappedBuffer(body);
        b.append(src);
        src.release();
        b.seal();
        return StoredResponse.of(meta, b);
    }

    static StoredResponse response(String pk, String vk, String body, String... headers) {
        return response(pk, vk, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** The whole body, copied. */
    static byte[] bytes(StoredResponse r) {
        byte[] out = new byte[(int) r.bodyLength()];
        int[] at = {0};
        r.body().forEachChunk(c -> {
            int n = c.readableBytes();
            c.getBytes(c.readerIndex(), out, at[0], n);
            at[0] += n;
        });
        return out;
    }

    static String text(StoredResponse r) {
        return new String(bytes(r), StandardCharsets.UTF_8);
    }
}
