package dev.portcullis.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {
    private final ProxyMetrics metrics = new ProxyMetrics();

    private String text() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void routeStatsAreCachedAndRecordStatusClassAndLatency() throws Exception {
        RouteStats stats = metrics.route("web", "api", "backend");
        assertThat(metrics.route("web", "api", "backend")).isSameAs(stats);
        assertThat(metrics.route("web", "api", "-")).isNotSameAs(stats);

        stats.record(200, 3_000_000);
        stats.record(204, 1_000_000);
        stats.record(503, 70_000_000_000L);
        stats.record(0, 1);

        String text = text();
        assertThat(text)
                .contains("portcullis_requests_total{listener=\"web\",route=\"api\",status=\"2xx\",upstream=\"backend\"} 2.0")
                .contains("portcullis_requests_total{listener=\"web\",route=\"api\",status=\"5xx\",upstream=\"backend\"} 2.0")
                .contains("portcullis_requests_total{listener=\"web\",route=\"api\",status=\"4xx\",upstream=\"backend\"} 0.0")
                .contains("portcullis_request_duration_seconds_bucket{listener=\"web\",route=\"api\",upstream=\"backend\",le=\"0.005\"} 3")
                .contains("portcullis_request_duration_seconds_bucket{listener=\"web\",route=\"api\",upstream=\"backend\",le=\"60.0\"} 3")
                .contains("portcullis_request_duration_seconds_bucket{listener=\"web\",route=\"api\",upstream=\"backend\",le=\"+Inf\"} 4")
                .contains("portcullis_request_duration_seconds_count{listener=\"web\",route=\"api\",upstream=\"backend\"} 4")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void listenerStats() throws Exception {
        ListenerStats l = metrics.listener("web");
        assertThat(metrics.listener("web")).isSameAs(l);
        l.connectionOpened();
        l.connectionOpened();
        l.connectionClosed();
        l.connectionRejected();
        l.requestRejected(431);
        l.requestRejected(400);
        l.requestRejected(400);
        l.requestRejected(418);

        assertThat(text())
                .contains("portcullis_active_connections{listener=\"web\"} 1.0")
                .contains("portcullis_connections_total{listener=\"web\"} 2.0")
                .contains("portcullis_connections_rejected_total{listener=\"web\"} 1.0")
                .contains("portcullis_rejected_requests_total{listener=\"web\",status=\"400\"} 2.0")
                .contains("portcullis_rejected_requests_total{listener=\"web\",status=\"431\"} 1.0")
                .contains("portcullis_rejected_requests_total{listener=\"web\",status=\"418\"} 1.0");
    }

    @Test
    void endpointStatsAndProcessCounters() throws Exception {
        EndpointStats e = metrics.endpoint("backend", "10.0.0.1:80");
        assertThat(metrics.endpoint("backend", "10.0.0.1:80")).isSameAs(e);
        e.requestStarted();
        e.requestStarted();
        e.requestFinished();
        e.failure();
        e.connectFailure();
        metrics.accessLogDropped();
        metrics.reload(true);
        metrics.reload(false);
        metrics.reload(false);

        assertThat(e.activeRequests()).isEqualTo(1);
        assertThat(e.failures()).isEqualTo(1);
        assertThat(text())
                .contains("portcullis_upstream_active_requests{endpoint=\"10.0.0.1:80\",upstream=\"backend\"} 1.0")
                .contains("portcullis_upstream_failures_total{endpoint=\"10.0.0.1:80\",upstream=\"backend\"} 1.0")
                .contains("portcullis_upstream_connect_failures_total{endpoint=\"10.0.0.1:80\",upstream=\"backend\"} 1.0")
                .contains("portcullis_access_log_dropped_total 1.0")
                .contains("portcullis_config_reloads_total{result=\"ok\"} 1.0")
                .contains("portcullis_config_reloads_total{result=\"refused\"} 2.0");
    }

    @Test
    void gaugesAreThreadSafe() throws Exception {
        EndpointStats e = metrics.endpoint("u", "e");
        Thread[] threads = new Thread[8];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    e.requestStarted();
                    e.requestFinished();
                }
                e.requestStarted();
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(e.activeRequests()).isEqualTo(8);
    }
}
