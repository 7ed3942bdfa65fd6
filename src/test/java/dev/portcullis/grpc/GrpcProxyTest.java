package dev.portcullis.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.testing.GrpcEchoServer;
import dev.portcullis.testing.H2TestCerts;
import dev.portcullis.testing.TestProxy;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.ServerSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A real grpc-java client and server through the proxy: h2c (or h2 over TLS) from the client, h2c to the upstream. */
class GrpcProxyTest {
    private static String yaml(String endpoints, String routeExtra) {
        return TestProxy.oneRouteYaml("", endpoints, ", protocol: h2c", routeExtra);
    }

    private static ManagedChannel channel(TestProxy p) {
        return NettyChannelBuilder.forAddress("127.0.0.1", p.port("web")).usePlaintext().build();
    }

    @Test
    void unaryCallPassesWithItsHeaders() throws Exception {
        try (GrpcEchoServer be = GrpcEchoServer.start(); TestProxy p = TestProxy.start(yaml(be.address(), ""))) {
            ManagedChannel ch = channel(p);
            try {
                String answer = ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.UNARY, CallOptions.DEFAULT, "hi");
                assertThat(answer).isEqualTo("echo:hi");
                Metadata seen = be.headers.poll(5, TimeUnit.SECONDS);
                assertThat(seen.get(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER)))
                        .isEqualTo("127.0.0.1");
                assertThat(seen.get(Metadata.Key.of("x-http2-stream-id", Metadata.ASCII_STRING_MARSHALLER))).isNull();
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void bidiStreamEchoesEachMessageBeforeTheNextIsSent() throws Exception {
        try (GrpcEchoServer be = GrpcEchoServer.start(); TestProxy p = TestProxy.start(yaml(be.address(), ""))) {
            ManagedChannel ch = channel(p);
            try {
                BlockingQueue<String> received = new LinkedBlockingQueue<>();
                CountDownLatch completed = new CountDownLatch(1);
                StreamObserver<String> out = ClientCalls.asyncBidiStreamingCall(
                        ch.newCall(GrpcEchoServer.CHAT, CallOptions.DEFAULT), new StreamObserver<>() {
                            @Override
                            public void onNext(String value) {
                                received.add(value);
                            }

                            @Override
                            public void onError(Throwable t) {
                                received.add("error: " + t);
                            }

                            @Override
                            public void onCompleted() {
                                completed.countDown();
                            }
                        });
                for (int i = 0; i < 50; i++) {
                    out.onNext("m" + i);
                    // Nothing is buffered on the way: the echo comes back while the call is still open.
                    assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo:m" + i);
                }
                out.onCompleted();
                assertThat(completed.await(5, TimeUnit.SECONDS)).isTrue();
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void overTlsWithAlpnH2FromTheClient() throws Exception {
        H2TestCerts certs = H2TestCerts.create();
        try (GrpcEchoServer be = GrpcEchoServer.start(); TestProxy p = TestProxy.start("""
                listeners:
                  - name: web
                    bind: 127.0.0.1:0
                    protocol: https
                    tls: %s
                    routes:
                      - match: { path_prefix: / }
                        upstream: be
                upstreams:
                  be: { endpoints: [%s], protocol: h2c }
                """.formatted(certs.tlsYaml(), be.address()))) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", p.port("web"))
                    .sslContext(GrpcSslContexts.forClient().trustManager(certs.ca.toFile()).build())
                    .build();
            try {
                assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.UNARY, CallOptions.DEFAULT, "secure"))
                        .isEqualTo("echo:secure");
                Metadata seen = be.headers.poll(5, TimeUnit.SECONDS);
                assertThat(seen.get(Metadata.Key.of("x-forwarded-proto", Metadata.ASCII_STRING_MARSHALLER)))
                        .isEqualTo("https");
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.FAIL, CallOptions.DEFAULT, "y"))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void upstreamStatusAndMessageArriveInTheTrailers() throws Exception {
        try (GrpcEchoServer be = GrpcEchoServer.start(); TestProxy p = TestProxy.start(yaml(be.address(), ""))) {
            ManagedChannel ch = channel(p);
            try {
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.FAIL, CallOptions.DEFAULT, "x"))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                            assertThat(e.getStatus().getDescription()).isEqualTo("no such thing: x");
                        });
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void proxyErrorsBecomeGrpcStatuses() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (TestProxy p = TestProxy.start(yaml("127.0.0.1:" + closed, ""))) {
            ManagedChannel ch = channel(p);
            try {
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.UNARY, CallOptions.DEFAULT, "x"))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).startsWith("502 Bad Gateway: ")
                                    .doesNotContain(String.valueOf(closed));
                        });
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theCallsDeadlineBoundsTheExchange() throws Exception {
        try (GrpcEchoServer be = GrpcEchoServer.start(); TestProxy p = TestProxy.start(yaml(be.address(), ""))) {
            ManagedChannel ch = channel(p);
            try {
                long start = System.nanoTime();
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.SLOW,
                        CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "5000"))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(4000);
                Metadata seen = be.headers.poll(5, TimeUnit.SECONDS);
                assertThat(seen.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER))).isNotNull();
                // The proxy is still serving on that connection.
                assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.SLOW, CallOptions.DEFAULT, "10"))
                        .isEqualTo("slept 10");
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aRouteTimeoutAnswersDeadlineExceeded() throws Exception {
        try (GrpcEchoServer be = GrpcEchoServer.start();
             TestProxy p = TestProxy.start(yaml(be.address(), "timeout: 300ms"))) {
            ManagedChannel ch = channel(p);
            try {
                assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, GrpcEchoServer.SLOW, CallOptions.DEFAULT, "3000"))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
