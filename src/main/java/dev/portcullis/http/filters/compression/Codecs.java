package dev.portcullis.http.filters.compression;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import dev.portcullis.config.CompressConfig.Algorithm;
import dev.portcullis.observe.CompressionStats;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which algorithms this process can run, and a new encoder for one. brotli and zstd are native libraries (shipped
 * for linux-x86_64 in the jar); when one does not load here, it is left out with one warning when the first route
 * that uses compression is compiled, and the route's other algorithms are used. gzip is the JDK's and always there.
 */
public final class Codecs {
    private static final Logger log = LoggerFactory.getLogger(Codecs.class);
    private static final Set<Algorithm> AVAILABLE = probe();

    private Codecs() {
    }

    /** The algorithms whose library loaded. */
    public static Set<Algorithm> available() {
        return AVAILABLE;
    }

    /** The configured order, without the algorithms not available here. */
    static List<Algorithm> usable(List<Algorithm> configured, Set<Algorithm> available) {
        List<Algorithm> out = new ArrayList<>(configured.size());
        for (Algorithm a : configured) {
            if (available.contains(a)) {
                out.add(a);
            }
        }
        return List.copyOf(out);
    }

    static BodyEncoder encoder(Algorithm a, ByteBufAllocator alloc, CompressionStats stats) {
        return switch (a) {
            case BR -> new BrotliEncoder(alloc, stats);
            case ZSTD -> new ZstdEncoder(alloc, stats);
            case GZIP -> new GzipEncoder(alloc, stats);
        };
    }

    private static Set<Algorithm> probe() {
        Set<Algorithm> set = EnumSet.of(Algorithm.GZIP);
        try {
            if (Brotli4jLoader.isAvailable()) {
                set.add(Algorithm.BR);
            } else {
                unavailable(Algorithm.BR, Brotli4jLoader.getUnavailabilityCause());
            }
        } catch (Throwable t) { // a missing class or native library: the algorithm is skipped, never the process
            unavailable(Algorithm.BR, t);
        }
        try {
            com.github.luben.zstd.util.Native.load();
            set.add(Algorithm.ZSTD);
        } catch (Throwable t) {
            unavailable(Algorithm.ZSTD, t);
        }
        return Set.copyOf(set);
    }

    private static void unavailable(Algorithm a, Throwable cause) {
        log.warn("compression: {} is not available on this machine ({}); routes that list it use their other "
                + "algorithms", a.token(), cause == null ? "no reason given" : cause.toString());
    }
}
