package dev.portcullis.cache.shared;

import static dev.portcullis.cache.shared.SharedFixtures.ALLOC;
import static dev.portcullis.cache.shared.SharedFixtures.bytes;
import static dev.portcullis.cache.shared.SharedFixtures.response;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.cache.store.StoredResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shared tier's value format, lifetimes and purge messages: no Redis needed. */
class SharedCodecTest {
    @Test
    void anObjectComesBackWholeThroughItsEncoding() throws Exception {
        byte[] body = new byte[200_000]; // several chunks
        new Random(7).nextBytes(body);
        StoredResponse r = response("http://h/a?b=1\nh:accept=x", "fr", body, "Content-Type", "text/plain",
                "Set-Thing", "1", "Set-Thing", "2", "Vary", "Accept-Language", "Surrogate-Key", "t1 t2",
                "X-Latin", "caf\u00e9");
        byte[] value = ObjectCodec.encode(r);
        StoredResponse back = ObjectCodec.decode(value, "http://h/a?b=1\nh:accept=x", "fr", ALLOC);
        try {
            assertThat(back.meta()).isEqualTo(r.meta());
            assertThat(back.meta().tags()).containsExactly("t1", "t2");
            assertThat(back.meta().vary()).isEqualTo("Accept-Language");
            assertThat(bytes(back)).isEqualTo(body);
            assertThat(back.body().isSealed()).isTrue();
        } finally {
            back.release();
            r.release();
        }
        StoredResponse empty = response("/e", "", new byte[0]);
        StoredResponse emptyBack = ObjectCodec.decode(ObjectCodec.encode(empty), "/e", "", ALLOC);
        assertThat(emptyBack.bodyLength()).isZero();
        emptyBack.release();
        empty.release();
    }

    @Test
    void aDamagedTruncatedOrForeignValueIsRefused() {
        StoredResponse r = response("/k", "", "hello world", "Content-Type", "text/plain");
        byte[] value = ObjectCodec.encode(r);
        r.release();

        byte[] flipped = value.clone();
        flipped[flipped.length - 8] ^= 1; // a body byte
        assertThatThrownBy(() -> ObjectCodec.decode(flipped, "/k", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessage("checksum mismatch");
        assertThatThrownBy(() -> ObjectCodec.decode(Arrays.copyOf(value, value.length - 3), "/k", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class);
        assertThatThrownBy(() -> ObjectCodec.decode(new byte[5], "/k", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessageContaining("too short");
        byte[] other = "something else entirely, long enough".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> ObjectCodec.decode(other, "/k", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessageContaining("bad magic");
        assertThatThrownBy(() -> ObjectCodec.decode(value, "/other", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessageContaining("stored for another key");
        assertThatThrownBy(() -> ObjectCodec.decode(value, "/k", "en", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessageContaining("stored for another key");
    }

    @Test
    void aMalformedValueWithAValidChecksumIsStillRefused() {
        // a header count far beyond the bytes there: the length checks refuse it before allocating
        StoredResponse r = response("/m", "", "x");
        byte[] value = ObjectCodec.encode(r);
        r.release();
        int headerCountAt = 8 + 4 + 2 + 4 + 0 + 2 + 4 + 2 + 8 + 8 + 4 + 4; // pk, vk, status, reason, times, vary, tags
        java.nio.ByteBuffer.wrap(value).putInt(headerCountAt, Integer.MAX_VALUE);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(value, 0, value.length - 4);
        java.nio.ByteBuffer.wrap(value).putInt(value.length - 4, (int) crc.getValue());
        assertThatThrownBy(() -> ObjectCodec.decode(value, "/m", "", ALLOC))
                .isInstanceOf(ObjectCodec.Corrupt.class).hasMessageContaining("malformed metadata");
    }

    @Test
    void redisKeepsAnObjectWhileItCanStillBeOfUse() {
        long now = System.currentTimeMillis();
        long min = SharedTtl.FLOOR.toMillis();
        long grace = SharedTtl.VALIDATOR_GRACE.toMillis();
        assertThat(ttl(now, "Cache-Control", "max-age=600")).isBetween(590_000L, 600_000L);
        assertThat(ttl(now, "Cache-Control", "max-age=600", "ETag", "\"v1\"")).isBetween(590_000 + grace,
                600_000 + grace);
        assertThat(ttl(now, "Cache-Control", "max-age=600, stale-while-revalidate=300, stale-if-error=900"))
                .isBetween(1_490_000L, 1_500_000L);
        // must-revalidate: the stale windows do not apply
        assertThat(ttl(now, "Cache-Control", "max-age=600, must-revalidate, stale-if-error=900"))
                .isBetween(590_000L, 600_000L);
        assertThat(ttl(now, "Cache-Control", "max-age=31536000")).isEqualTo(SharedTtl.CAP.toMillis());
        assertThat(ttl(now, "Cache-Control", "no-cache", "ETag", "\"v\"")).isEqualTo(grace);
        assertThat(ttl(now, "Cache-Control", "max-age=1")).isEqualTo(min);
        assertThat(ttl(now, "Cache-Control", "max-age=60", "Age", "100000")).isEqualTo(min);
    }

    private static long ttl(long now, String... headers) {
        StoredResponse r = response("/t", "", "x", headers);
        try {
            return SharedTtl.millis(r.meta(), now);
        } finally {
            r.release();
        }
    }

    @Test
    void purgeMessagesRoundTripAndBadOnesAreRefused() throws Exception {
        List<PurgeBroadcast.Purge> purges = List.of(
                new PurgeBroadcast.Purge("z", PurgeBroadcast.Kind.KEY, "http://h/a \"q\"\u00e9"),
                new PurgeBroadcast.Purge("z", PurgeBroadcast.Kind.PREFIX, "http://h/a\n"),
                new PurgeBroadcast.Purge("y", PurgeBroadcast.Kind.TAG, "product-7"));
        byte[] wire = PurgeBroadcast.encode("instance-1", purges);
        assertThat(new String(wire, StandardCharsets.UTF_8)).startsWith("{\"v\":1,\"from\":\"instance-1\",\"purges\":[");
        PurgeBroadcast.Message m = PurgeBroadcast.decode(wire);
        assertThat(m.from()).isEqualTo("instance-1");
        assertThat(m.purges()).isEqualTo(purges);
        // a later version's extra fields are skipped
        assertThat(PurgeBroadcast.decode(("{\"v\":1,\"from\":\"a\",\"x\":{\"y\":[1]},\"purges\":[{\"zone\":\"z\","
                + "\"kind\":\"tag\",\"value\":\"t\",\"more\":true}]}").getBytes(StandardCharsets.UTF_8)).purges())
                .containsExactly(new PurgeBroadcast.Purge("z", PurgeBroadcast.Kind.TAG, "t"));
        for (String bad : List.of("", "not json", "[]", "{\"v\":2,\"from\":\"a\",\"purges\":[]}",
                "{\"v\":1,\"purges\":[]}", "{\"v\":1,\"from\":\"a\",\"purges\":[1]}",
                "{\"v\":1,\"from\":\"a\",\"purges\":[{\"zone\":\"z\",\"kind\":\"all\",\"value\":\"x\"}]}",
                "{\"v\":1,\"from\":\"a\",\"purges\":[{\"zone\":\"z\",\"kind\":\"tag\"}]}",
                "{\"v\":1,\"from\":\"a\",\"purges\":[{\"zone\":\"z\",\"kind\":\"tag\",\"value\":7}]}",
                "{\"v\":1,\"from\":\"a\",\"purges\":[")) {
            assertThatThrownBy(() -> PurgeBroadcast.decode(bad.getBytes(StandardCharsets.UTF_8))).as(bad)
                    .isInstanceOfAny(IllegalArgumentException.class, java.io.IOException.class);
        }
    }

    @Test
    void keysPutAUrlsIndexAndObjectsInOneClusterSlotAndEscapeGlobPatterns() {
        SharedKeys k = new SharedKeys("z");
        String index = k.index("http://h/a\nh:x=1");
        assertThat(index).startsWith("portcullis:cache:z:{").endsWith("}i:http://h/a");
        String slot = index.substring(0, index.indexOf('}') + 1);
        assertThat(k.object("http://h/a\nh:x=1", "en")).startsWith(slot + "o:");
        assertThat(k.object("http://h/a", "")).startsWith(slot + "o:").isNotEqualTo(k.object("http://h/a", "en"));
        assertThat(k.index("http://h/b")).doesNotStartWith(slot);
        assertThat(k.indexPattern("http://h/*?[x]\\")).isEqualTo("portcullis:cache:z:{*}i:http://h/\\*\\?\\[x\\]\\\\*");
        assertThat(k.tag("t")).isEqualTo("portcullis:cache:z:t:t");
    }
}
