package dev.portcullis.observe;

import dev.portcullis.config.CompressConfig.Algorithm;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;

/**
 * Compression counters of one route ({@code portcullis_compressed_responses_total} and
 * {@code portcullis_compression_bytes_total}); get it once from {@link ProxyMetrics#compression}. Data points are
 * resolved up front per algorithm: recording is one add, no lookup. Bytes are added once per response, when its
 * encoder ends (completed or abandoned).
 */
public final class CompressionStats {
    private final CounterDataPoint[] responses = new CounterDataPoint[Algorithm.values().length];
    private final CounterDataPoint[] bytesIn = new CounterDataPoint[Algorithm.values().length];
    private final CounterDataPoint[] bytesOut = new CounterDataPoint[Algorithm.values().length];

    CompressionStats(ProxyMetrics metrics, String route) {
        for (Algorithm a : Algorithm.values()) {
            responses[a.ordinal()] = metrics.compressedResponses.labelValues(route, a.token());
            bytesIn[a.ordinal()] = metrics.compressionBytes.labelValues(route, a.token(), "in");
            bytesOut[a.ordinal()] = metrics.compressionBytes.labelValues(route, a.token(), "out");
        }
    }

    /** A response body is being compressed with {@code a}. */
    public void compressed(Algorithm a) {
        responses[a.ordinal()].inc();
    }

    /** What one response's encoder took in and gave out. */
    public void bytes(Algorithm a, long in, long out) {
        if (in > 0) {
            bytesIn[a.ordinal()].inc(in);
        }
        if (out > 0) {
            bytesOut[a.ordinal()].inc(out);
        }
    }

    /** For tests. */
    public long responses(Algorithm a) {
        return (long) responses[a.ordinal()].get();
    }
}
