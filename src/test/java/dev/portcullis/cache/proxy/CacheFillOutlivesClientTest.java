package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheProxyTest.CLIENT;
import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.TestBackend;
import dev.portcullis.testing.TestProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The client whose request fetches an object for the cache leaves in the middle of the body: the fetch goes on
 * into the store, so the requests collapsed onto it get the whole object, and the next one is a hit.
 */
class CacheFillOutlivesClientTest {
    private static final int SIZE = 2 * 1024 * 1024;

    @Test
    void theLeadersClientLeavingMidBodyDoesNotCutTheFollowersNorLoseTheObject() throws Exception {
        byte[] body = new byte[SIZE];
        new Random(11).nextBytes(body);
        CountDownLatch firstHalfSent = new CountDownLatch(1);
        CountDownLatch sendRest = new CountDownLatch(1);
        AtomicInteger requests = new AtomicInteger();
        try (TestBackend origin = TestBackend.start("slow-origin", ex -> {
            TestBackend.drain(ex);
            requests.incrementAndGet();
            ex.getResponseHeaders().add("Cache-Control", "max-age=60");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body, 0, SIZE / 2);
                out.flush();
                firstHalfSent.countDown();
                sendRest.await(10, TimeUnit.SECONDS);
                out.write(body, SIZE / 2, SIZE - SIZE / 2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
             TestProxy p = TestProxy.start(CacheProxyTest.yaml(origin.address(), ""))) {
            // the leader: a raw client that reads a little of the body, then hangs up
            try (Socket leader = new Socket("127.0.0.1", p.port("web"))) {
                OutputStream out = leader.getOutputStream();
                // the Host the JDK client sends too: one cache key
                out.write(("GET /obj HTTP/1.1\r\nHost: 127.0.0.1:" + p.port("web") + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = leader.getInputStream();
                byte[] buf = new byte[16 * 1024];
                assertThat(in.read(buf)).isPositive();
                assertThat(firstHalfSent.await(10, TimeUnit.SECONDS)).isTrue();
                // a follower attaches to the fill in progress: its head comes from the store at once
                HttpResponse<InputStream> f = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/obj"))
                        .timeout(Duration.ofSeconds(20)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(f.statusCode()).isEqualTo(200);
                assertThat(cacheStatus(f)).contains("collapsed");
                leader.close(); // mid-body
                Thread.sleep(200); // the proxy sees the leader gone before the rest comes
                sendRest.countDown();
                try (InputStream rest = f.body()) {
                    assertThat(rest.readAllBytes()).isEqualTo(body);
                }
            }
            HttpResponse<byte[]> hit = CLIENT.send(HttpRequest.newBuilder(p.uri("web", "/obj"))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(hit.body()).isEqualTo(body);
            assertThat(cacheStatus(hit)).startsWith("portcullis; hit");
            assertThat(requests.get()).isEqualTo(1);
        }
    }

}
